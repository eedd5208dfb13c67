//! Optional ed25519 signatures. The signature covers the manifest's bytes, and the manifest
//! holds the SHA-256 of every other member, so it covers the whole bundle. Keys are text
//! files: `casefile-ed25519-secret <64 hex>` (mode 0600) and `casefile-ed25519-public <64 hex>`.
//! The `signature.ed25519` member reads `ed25519 <public key hex> <signature hex>\n`.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use std::path::Path;

const SECRET_TAG: &str = "casefile-ed25519-secret";
const PUBLIC_TAG: &str = "casefile-ed25519-public";

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    // Lowercase only: one spelling per value, so no byte of a key or signature can change
    // without changing what it says.
    if s.len() != 2 * N
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn read_tagged<const N: usize>(path: &Path, tag: &str) -> Result<[u8; N], String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read key {}: {e}", path.display()))?;
    text.trim()
        .strip_prefix(tag)
        .map(str::trim)
        .and_then(unhex::<N>)
        .ok_or_else(|| format!("{} is not a `{tag}` key file", path.display()))
}

/// A new key pair, from the OS's randomness.
pub fn generate() -> Result<SigningKey, String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no randomness from the OS: {e}"))?;
    Ok(SigningKey::from_bytes(&secret))
}

/// Writes `NAME.key` (readable only by you) and `NAME.pub`; returns the public key's text.
pub fn write_pair(key: &SigningKey, base: &Path) -> Result<String, String> {
    let secret_path = base.with_extension("key");
    let public_path = base.with_extension("pub");
    for p in [&secret_path, &public_path] {
        if p.exists() {
            return Err(format!("{} exists: not overwritten", p.display()));
        }
    }
    let public = format!(
        "{PUBLIC_TAG} {}\n",
        super::format::hex(key.verifying_key().as_bytes())
    );
    let secret = format!("{SECRET_TAG} {}\n", super::format::hex(&key.to_bytes()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    options
        .open(&secret_path)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", secret_path.display()))?;
    std::fs::write(&public_path, &public)
        .map_err(|e| format!("cannot write {}: {e}", public_path.display()))?;
    Ok(public.trim().to_string())
}

pub fn read_secret(path: &Path) -> Result<SigningKey, String> {
    read_tagged::<32>(path, SECRET_TAG).map(|b| SigningKey::from_bytes(&b))
}

pub fn read_public(path: &Path) -> Result<VerifyingKey, String> {
    let bytes = read_tagged::<32>(path, PUBLIC_TAG)?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The signature member for a manifest.
pub fn signature_member(key: &SigningKey, manifest: &[u8]) -> Vec<u8> {
    let sig = key.sign(manifest);
    format!(
        "ed25519 {} {}\n",
        super::format::hex(key.verifying_key().as_bytes()),
        super::format::hex(&sig.to_bytes())
    )
    .into_bytes()
}

/// Who signed, when the signature holds for the manifest; why not otherwise.
pub fn check(member: &[u8], manifest: &[u8]) -> Result<VerifyingKey, String> {
    let text = std::str::from_utf8(member).map_err(|_| "is not text".to_string())?;
    let parts: Vec<&str> = text.trim_end_matches('\n').split(' ').collect();
    let [kind, public, signature] = parts.as_slice() else {
        return Err("is not `ed25519 <key> <signature>`".into());
    };
    if *kind != "ed25519" || text.matches('\n').count() != 1 || !text.ends_with('\n') {
        return Err("is not `ed25519 <key> <signature>`".into());
    }
    let public = unhex::<32>(public)
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or("holds no valid public key")?;
    let signature = unhex::<64>(signature)
        .map(|b| Signature::from_bytes(&b))
        .ok_or("holds no valid signature")?;
    // Exactly the text casefile writes: no other spelling of the same key and signature.
    let canonical = format!(
        "ed25519 {} {}\n",
        super::format::hex(public.as_bytes()),
        super::format::hex(&signature.to_bytes())
    );
    if canonical.as_bytes() != member {
        return Err("is not written the way casefile writes it".into());
    }
    public
        .verify_strict(manifest, &signature)
        .map_err(|_| "does not verify: the manifest or the signature was changed".to_string())?;
    Ok(public)
}

pub fn key_text(key: &VerifyingKey) -> String {
    super::format::hex(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_manifest_only() {
        let key = generate().unwrap();
        let member = signature_member(&key, b"manifest");
        assert_eq!(check(&member, b"manifest").unwrap(), key.verifying_key());
        assert!(check(&member, b"manifest!")
            .unwrap_err()
            .contains("does not verify"));
        for i in 0..member.len() {
            let mut changed = member.clone();
            changed[i] ^= 0x01;
            assert!(check(&changed, b"manifest").is_err(), "byte {i}");
            changed[i] ^= 0x01 ^ 0x20; // a change of case
            assert!(check(&changed, b"manifest").is_err(), "case of byte {i}");
        }
    }
}
