//! Secrets removed before a bundle is written (`rules/redact.toml`, extended by the user's
//! `redact.toml`). Each match keeps its context and loses its `secret` group to
//! `[REDACTED:rule]`, which holds no quote or backslash, so a JSON raw record stays JSON.

use crate::model::Event;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const DEFAULT_RULES: &str = include_str!("../../rules/redact.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    pattern: String,
}

#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Vec<(String, Regex)>,
    /// All the patterns at once: one pass says which rules can match a text at all.
    any: regex::RegexSet,
}

impl Default for Redactor {
    /// The built-in rules.
    fn default() -> Redactor {
        Redactor::parse("rules/redact.toml (built in)", DEFAULT_RULES)
            .unwrap_or_else(|_| Redactor::from_rules(Vec::new()))
    }
}

impl Redactor {
    pub fn parse(label: &str, text: &str) -> Result<Redactor, String> {
        let file: RuleFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut rules = Vec::new();
        for r in file.rule {
            let re =
                Regex::new(&r.pattern).map_err(|e| format!("{label}: rule `{}`: {e}", r.name))?;
            if !re.capture_names().any(|n| n == Some("secret")) {
                return Err(format!(
                    "{label}: rule `{}` has no (?P<secret>…) group",
                    r.name
                ));
            }
            if !r
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "{label}: rule name `{}`: letters, digits, - and _ only",
                    r.name
                ));
            }
            rules.push((r.name, re));
        }
        Ok(Redactor::from_rules(rules))
    }

    fn from_rules(rules: Vec<(String, Regex)>) -> Redactor {
        let any = regex::RegexSet::new(rules.iter().map(|(_, re)| re.as_str()))
            .unwrap_or_else(|_| regex::RegexSet::empty());
        Redactor { rules, any }
    }

    /// The built-in rules and then the user's.
    pub fn extended(self, user: Redactor) -> Redactor {
        let mut rules = self.rules;
        rules.extend(user.rules);
        Redactor::from_rules(rules)
    }

    /// The text with every secret replaced; `counts` gains one per secret, by rule.
    pub fn text(&self, text: &str, counts: &mut BTreeMap<String, u64>) -> String {
        let candidates = self.any.matches(text);
        if !candidates.matched_any() {
            return text.to_string();
        }
        let mut out = text.to_string();
        for (name, re) in candidates.iter().map(|i| &self.rules[i]) {
            if !re.is_match(&out) {
                continue;
            }
            let marker = format!("[REDACTED:{name}]");
            let mut found = 0u64;
            let replaced = re.replace_all(&out, |caps: &regex::Captures| {
                let whole = caps.get(0).map_or("", |m| m.as_str());
                let Some(secret) = caps.name("secret") else {
                    return whole.to_string();
                };
                if secret.as_str().starts_with("[REDACTED:") || secret.as_str().is_empty() {
                    return whole.to_string();
                }
                found += 1;
                let start = caps.get(0).map_or(0, |m| m.start());
                let (from, to) = (secret.start() - start, secret.end() - start);
                format!("{}{marker}{}", &whole[..from], &whole[to..])
            });
            let replaced = replaced.into_owned();
            if found > 0 {
                *counts.entry(name.clone()).or_default() += found;
                out = replaced;
            }
        }
        out
    }

    /// Every text of the event a secret can hide in.
    pub fn event(&self, e: &mut Event, counts: &mut BTreeMap<String, u64>) {
        e.title = self.text(&e.title, counts);
        e.message = self.text(&e.message, counts);
        e.raw = self.text(&e.raw, counts);
        if let Some(p) = &mut e.process {
            if let Some(c) = &p.cmdline {
                p.cmdline = Some(self.text(c, counts));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_and_their_context_stays() {
        let r = Redactor::default();
        let mut counts = BTreeMap::new();
        let cases = [
            (
                "curl -H 'Authorization: Bearer eyJhbGciOi.abc123def456.ghi789jkl' https://x",
                "eyJhbGciOi",
            ),
            ("mysql -u root --password=hunter2secret db", "hunter2secret"),
            ("postgres://app:s3cr3tpw@db:5432/app", "s3cr3tpw"),
            ("{\"password\":\"Tr0ub4dor&3\"}", "Tr0ub4dor"),
            ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI",
            ),
            ("VAULT_TOKEN=hvs.CAESIJlU2pBqZ3k8s9aB7cD6eF5gH4", "CAESIJlU2pBq"),
            ("Cookie: session=abcdef0123456789", "abcdef0123456789"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----",
                "MIIEowIBAAKCAQEA",
            ),
        ];
        for (text, secret) in cases {
            let out = r.text(text, &mut counts);
            assert!(!out.contains(secret), "{text} -> {out}");
            assert!(out.contains("[REDACTED:"), "{out}");
        }
        assert!(
            counts.values().sum::<u64>() >= cases.len() as u64,
            "{counts:?}"
        );
        // Ordinary text is untouched, and so are the demo's sshd lines.
        for plain in [
            "sshd: Failed password for mallory from 203.0.113.45 port 62389 ssh2",
            "GET /v1/orders 200",
        ] {
            let mut none = BTreeMap::new();
            assert_eq!(r.text(plain, &mut none), plain);
            assert!(none.is_empty());
        }
    }

    #[test]
    fn a_json_raw_record_stays_json() {
        let r = Redactor::default();
        let raw = r#"{"headers":{"Authorization":"Bearer abcdefgh12345678"},"url":"https://u:pw1234@h/x","msg":"login with \"password\": \"xyz987\""}"#;
        let out = r.text(raw, &mut BTreeMap::new());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            !out.contains("abcdefgh12345678") && !out.contains("pw1234"),
            "{out}"
        );
        assert!(!out.contains("xyz987"), "{out}");
        assert!(v["headers"]["Authorization"]
            .as_str()
            .unwrap()
            .contains("[REDACTED:"));
    }

    #[test]
    fn secrets_next_to_json_escapes_leave_valid_json() {
        let r = Redactor::default();
        let texts = [
            "password:\nhunter2",
            "token=\tabc123def",
            "--password \"s3cret pass\" --user x",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAB",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----",
            "Cookie: a=b\u{0}c",
            "authorization:\\\"Bearer\\\" zzzzzzzz",
            "mysql -u root -pS3cretPw db",
        ];
        for text in texts {
            let raw = serde_json::json!({ "msg": text, "after": "x" }).to_string();
            let out = r.text(&raw, &mut BTreeMap::new());
            let v: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{raw} -> {out}: {e}"));
            assert_eq!(v["after"], "x", "{out}");
        }
        let quoted = r.text("--password \"s3cret pass\" -x", &mut BTreeMap::new());
        assert!(!quoted.contains("s3cret"), "{quoted}");
        let mysql = r.text("mysql -u root -pS3cretPw db", &mut BTreeMap::new());
        assert!(!mysql.contains("S3cretPw"), "{mysql}");
        let pgp = r.text(texts[4], &mut BTreeMap::new());
        assert!(!pgp.contains("lQOYBF"), "{pgp}");
    }

    #[test]
    fn a_rule_without_a_secret_group_is_refused() {
        let err =
            Redactor::parse("r.toml", "[[rule]]\nname = \"x\"\npattern = 'abc'\n").unwrap_err();
        assert!(err.contains("no (?P<secret>"), "{err}");
    }
}
