//! Copying one line of text (a link, an address, a message) to the user's clipboard.
//!
//! Two ways: the system clipboard through `arboard` where a display is at hand, and OSC 52
//! (`ESC ] 52 ; c ; <base64> BEL`) written to the terminal otherwise, which reaches the
//! clipboard of the machine the user sits at even over SSH. [`choose`] decides from the
//! environment; a failing system clipboard falls back to OSC 52.
//!
//! The text is untrusted (it may come from a log line), so it passes through
//! [`crate::sanitize::line`] first: controls, ESC, DEL, bidirectional overrides and invisible
//! characters are *escaped* into visible text (`\x1b`, `\u{202e}`), not removed. The copy is
//! then exactly what the TUI showed; a clean URL is copied byte for byte; and a tampered value
//! stays visibly tampered instead of silently becoming a different, plausible string
//! (`exam\u{202e}ple.com` must not paste as `example.com`). Newline and tab are escaped too:
//! this is a one-line API.
//!
//! X11 keeps a selection only while its owner lives, so the `arboard::Clipboard` is kept in a
//! static for the life of the process: the copied text stays pasteable while casefile runs.
//! [`release`] at exit drops it, and arboard then offers the text to a clipboard manager (it
//! waits up to 100 ms for one). Without a manager the text goes when casefile does.

use std::fmt;
use std::io::Write;
use std::sync::Mutex;

/// The most bytes of (sanitized) text copied: its bare OSC 52 sequence is then at most
/// 100,000 bytes, about what terminals accept in one. A link is far smaller.
pub const MAX_TEXT_BYTES: usize = 74_994;

/// Bytes of the inner sequence per GNU screen DCS chunk: screen 4.0.3 caps a string
/// sequence at 256 bytes, less `ESC P` and `ESC \`.
const SCREEN_CHUNK: usize = 252;

/// How the text reached (or is to reach) the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The system clipboard, through arboard.
    System,
    /// An OSC 52 sequence written to the terminal.
    Osc52,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::System => "system clipboard",
            Method::Osc52 => "OSC 52",
        })
    }
}

/// What was copied, for the status line: `copied 312 characters (OSC 52)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub method: Method,
    /// Characters of the sanitized text that was copied.
    pub chars: usize,
}

impl fmt::Display for Copied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.chars == 1 { "" } else { "s" };
        write!(f, "copied {} character{s} ({})", self.chars, self.method)
    }
}

/// Whether an environment variable is set to something (an empty value counts as unset).
fn is_set(env: &dyn Fn(&str) -> Option<String>, key: &str) -> bool {
    env(key).is_some_and(|v| !v.is_empty())
}

/// The method to try first. OSC 52 over SSH (`SSH_TTY`, `SSH_CONNECTION`) or without a display
/// (`DISPLAY`, `WAYLAND_DISPLAY`); otherwise the system clipboard, which [`copy`] leaves for
/// OSC 52 if it fails. A pure function of `env`, so tests need not touch the process env.
pub fn choose(env: &dyn Fn(&str) -> Option<String>) -> Method {
    let ssh = is_set(env, "SSH_TTY") || is_set(env, "SSH_CONNECTION");
    let display = is_set(env, "DISPLAY") || is_set(env, "WAYLAND_DISPLAY");
    if ssh || !display {
        Method::Osc52
    } else {
        Method::System
    }
}

/// Standard base64 (RFC 4648 §4) with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The text made safe and checked against the limit: what both methods copy.
fn prepare(text: &str) -> Result<String, String> {
    let clean = crate::sanitize::line(text).into_owned();
    if clean.is_empty() {
        return Err("nothing to copy".to_string());
    }
    if clean.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "too long to copy: {} bytes (the limit is {MAX_TEXT_BYTES})",
            clean.len()
        ));
    }
    Ok(clean)
}

/// The OSC 52 sequence that puts already-sanitized `clean` on the clipboard, wrapped for tmux
/// (`TMUX` set) or GNU screen (`STY` set). BEL ends it, as ST would end a passthrough early.
fn sequence(clean: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let osc = format!("\x1b]52;c;{}\x07", base64(clean.as_bytes()));
    if is_set(env, "TMUX") {
        // DCS passthrough: every ESC inside doubled. tmux 3.3+ needs `allow-passthrough on`.
        format!("\x1bPtmux;{}\x1b\\", osc.replace('\x1b', "\x1b\x1b"))
    } else if is_set(env, "STY") {
        // screen passes a DCS string through as is, but only short ones: one DCS per chunk.
        let mut out = String::with_capacity(osc.len() + osc.len() / SCREEN_CHUNK * 4 + 4);
        for chunk in osc.as_bytes().chunks(SCREEN_CHUNK) {
            out.push_str("\x1bP");
            // The sequence is ASCII, so any byte boundary is a char boundary.
            out.extend(chunk.iter().map(|&b| b as char));
            out.push_str("\x1b\\");
        }
        out
    } else {
        osc
    }
}

/// The OSC 52 sequence (wrapped for tmux or screen as `env` says) that copies `text` once
/// sanitized. Fails on empty text or text over [`MAX_TEXT_BYTES`].
pub fn osc52_sequence(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    prepare(text).map(|clean| sequence(&clean, env))
}

/// The system clipboard, kept for the life of the process (see the module doc).
static SYSTEM: Mutex<Option<arboard::Clipboard>> = Mutex::new(None);

/// Puts `text` on the system clipboard, opening it on first use. On failure the clipboard is
/// dropped, so the next copy tries afresh.
fn system_copy(text: &str) -> Result<(), String> {
    let mut held = SYSTEM
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if held.is_none() {
        *held = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
    }
    let result = match held.as_mut() {
        Some(clipboard) => clipboard.set_text(text).map_err(|e| e.to_string()),
        None => Err("no clipboard".to_string()),
    };
    if result.is_err() {
        *held = None;
    }
    result
}

/// Drops the held system clipboard (call once at exit): arboard then hands the text to a
/// clipboard manager if one runs, waiting up to 100 ms. Does nothing if none was opened.
pub fn release() {
    let taken = SYSTEM
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    drop(taken);
}

/// Copies `text`, sanitized, to the clipboard: through arboard when [`choose`] says so and it
/// works, else as OSC 52 written to `out` (the terminal's writer) and flushed. Call it between
/// frames; it blocks on nothing but that write and arboard's call.
pub fn copy(text: &str, out: &mut dyn Write) -> Result<Copied, String> {
    let env = |key: &str| std::env::var_os(key).map(|v| v.to_string_lossy().into_owned());
    copy_with(text, out, &env, &mut system_copy)
}

/// [`copy`] with the environment and the system clipboard given, for tests.
fn copy_with(
    text: &str,
    out: &mut dyn Write,
    env: &dyn Fn(&str) -> Option<String>,
    system: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<Copied, String> {
    let clean = prepare(text)?;
    let chars = clean.chars().count();
    if choose(env) == Method::System && system(&clean).is_ok() {
        return Ok(Copied {
            method: Method::System,
            chars,
        });
    }
    out.write_all(sequence(&clean, env).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("could not write to the terminal: {e}"))?;
    Ok(Copied {
        method: Method::Osc52,
        chars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    fn decode(s: &str) -> Vec<u8> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let val = |c: u8| alphabet.iter().position(|&a| a == c).unwrap() as u32;
        let mut out = Vec::new();
        for quad in s.as_bytes().chunks(4) {
            let pad = quad.iter().filter(|&&c| c == b'=').count();
            let digits = quad.iter().filter(|&&c| c != b'=');
            let n = digits.fold(0, |n, &c| n << 6 | val(c)) << (6 * pad);
            out.extend(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..3 - pad]);
        }
        out
    }

    /// The text inside a bare `ESC ] 52 ; c ; … BEL`, decoded.
    fn payload(seq: &str) -> String {
        let b64 = seq.strip_prefix("\x1b]52;c;").unwrap();
        String::from_utf8(decode(b64.strip_suffix('\x07').unwrap())).unwrap()
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded), plain.as_bytes());
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn osc52_decodes_back_to_the_text() {
        let url = "https://grafana.example.com/explore?left=%7B%22q%22%3A1%7D&ü=日本";
        assert_eq!(payload(&osc52_sequence(url, &env_of(&[])).unwrap()), url);
    }

    #[test]
    fn tmux_wrapping_doubles_every_esc() {
        let env = env_of(&[("TMUX", "/tmp/tmux-0/default,1,0")]);
        let seq = osc52_sequence("hello", &env).unwrap();
        let inner = seq.strip_prefix("\x1bPtmux;").unwrap();
        let inner = inner.strip_suffix("\x1b\\").unwrap();
        assert!(!inner.replace("\x1b\x1b", "").contains('\x1b'));
        assert_eq!(payload(&inner.replace("\x1b\x1b", "\x1b")), "hello");
    }

    #[test]
    fn screen_wrapping_chunks_into_dcs_strings() {
        let text = "x".repeat(1000);
        let seq = osc52_sequence(&text, &env_of(&[("STY", "123.pts-0.host")])).unwrap();
        let chunks: Vec<&str> = seq.split_terminator("\x1b\\").collect();
        assert!(chunks.len() > 1 && chunks.iter().all(|c| c.len() <= SCREEN_CHUNK + 2));
        let inner: String = chunks
            .iter()
            .map(|c| c.strip_prefix("\x1bP").unwrap())
            .collect();
        assert_eq!(payload(&inner), text);
    }

    #[test]
    fn hostile_input_never_reaches_the_output_raw() {
        let hostile =
            "a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\u{9b}31m\u{202e}gpj\u{2066}\u{200b}\x7f\nr\tc";
        for vars in [&[][..], &[("TMUX", "1")], &[("STY", "1")]] {
            let seq = osc52_sequence(hostile, &env_of(vars)).unwrap();
            // The only controls are those of the sequence and its wrapper.
            let allowed = |c: char| c.is_ascii() && (!c.is_control() || "\x1b\x07".contains(c));
            assert!(seq.chars().all(allowed));
            assert_eq!(seq.matches('\x07').count(), 1);
        }
        let text = payload(&osc52_sequence(hostile, &env_of(&[])).unwrap());
        assert!(!text.chars().any(crate::sanitize::needs_escape));
        let shown = r"a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\x9b31m\u{202e}gpj\u{2066}\u{200b}\x7f\nr\tc";
        assert_eq!(text, shown);
    }

    #[test]
    fn method_follows_ssh_and_display() {
        use Method::{Osc52, System};
        let cases: [(&[(&str, &str)], Method); 6] = [
            (&[("DISPLAY", ":0")], System),
            (&[("WAYLAND_DISPLAY", "wayland-0")], System),
            (&[], Osc52),
            (&[("DISPLAY", "")], Osc52),
            (&[("DISPLAY", ":0"), ("SSH_TTY", "/dev/pts/3")], Osc52),
            (
                &[("DISPLAY", "localhost:10"), ("SSH_CONNECTION", "a 1 b 22")],
                Osc52,
            ),
        ];
        for (vars, method) in cases {
            assert_eq!(choose(&env_of(vars)), method, "{vars:?}");
        }
    }

    #[test]
    fn over_limit_and_empty_text_are_refused() {
        let at_limit = "a".repeat(MAX_TEXT_BYTES);
        assert!(osc52_sequence(&at_limit, &env_of(&[])).unwrap().len() <= 100_000);
        let err = osc52_sequence(&format!("{at_limit}a"), &env_of(&[])).unwrap_err();
        assert!(err.contains("too long"), "{err}");
        // The limit counts the sanitized text: escapes make it longer.
        let controls = "\x1b".repeat(MAX_TEXT_BYTES / 4 + 1);
        assert!(osc52_sequence(&controls, &env_of(&[])).is_err());
        let empty = osc52_sequence("", &env_of(&[])).unwrap_err();
        assert_eq!(empty, "nothing to copy");
    }

    #[test]
    fn copy_writes_osc52_over_ssh_and_falls_back() {
        let ssh = env_of(&[("DISPLAY", ":0"), ("SSH_TTY", "/dev/pts/1")]);
        let mut never = |_: &str| -> Result<(), String> { panic!("system clipboard over SSH") };
        let mut out = Vec::new();
        let copied = copy_with("a\u{202e}b", &mut out, &ssh, &mut never).unwrap();
        assert_eq!(copied.to_string(), "copied 10 characters (OSC 52)");
        assert_eq!(payload(std::str::from_utf8(&out).unwrap()), r"a\u{202e}b");

        let desktop = env_of(&[("DISPLAY", ":0")]);
        let (mut out, mut got) = (Vec::new(), String::new());
        let mut works = |t: &str| -> Result<(), String> {
            got = t.to_string();
            Ok(())
        };
        let copied = copy_with("link", &mut out, &desktop, &mut works).unwrap();
        assert_eq!(
            (copied.method, got.as_str(), out.len()),
            (Method::System, "link", 0)
        );

        let mut fails = |_: &str| -> Result<(), String> { Err("no X".into()) };
        let copied = copy_with("link", &mut out, &desktop, &mut fails).unwrap();
        assert_eq!((copied.method, copied.chars), (Method::Osc52, 4));
        assert_eq!(payload(std::str::from_utf8(&out).unwrap()), "link");
    }
}
