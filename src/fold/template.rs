//! Message templates: the text of an event with what varies between repeats taken out, so
//! that numbers, ports, timestamps, ids and the event's own entity values (the user, the ip)
//! do not keep two repeats of the same message apart.

/// Where an entity value stood in the text.
pub const VALUE: char = '‹';
/// Where a word with a digit in it, or a long id, stood.
pub const NUMBER: char = '#';

/// A word this long is an id or a hash (a base64 key fingerprint), not a word of the message.
const LONG_WORD: usize = 16;
/// Values shorter than this are not looked for: `a` or `01` would mask pieces of words.
const MIN_VALUE: usize = 3;

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Appends the template of `text` to `out`. Every value in `values` found where a word starts
/// and ends becomes [`VALUE`]; an id written with dashes or colons (a UUID, a MAC, a time)
/// becomes one [`NUMBER`], and so does every other word that has a digit, is hexadecimal and 8
/// long, or is [`LONG_WORD`] long. Everything else (the message's own words, punctuation) is
/// kept.
pub fn template_into(text: &str, values: &[&str], out: &mut String) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if !is_word(c) {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if let Some(len) = value_at(rest, values) {
            out.push(VALUE);
            rest = &rest[len..];
            continue;
        }
        let id = id_len(rest);
        if id > 0 {
            out.push(NUMBER);
            rest = &rest[id..];
            continue;
        }
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        if is_variable(word) {
            out.push(NUMBER);
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
}

fn is_variable(word: &str) -> bool {
    word.len() >= LONG_WORD
        || word.bytes().any(|b| b.is_ascii_digit())
        || (word.len() >= 8 && word.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The length of an id made of hexadecimal groups joined by `-` or `:` that starts here
/// (`3f2a91bc-abcd-4123-8def-0a1b2c3d4e5f`, `02:42:ac:11:00:02`), with a digit somewhere;
/// 0 when none does.
fn id_len(rest: &str) -> usize {
    let b = rest.as_bytes();
    let mut i = 0;
    let mut groups = 0;
    let mut digit = false;
    loop {
        let start = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            digit |= b[i].is_ascii_digit();
            i += 1;
        }
        if i == start {
            // A separator not followed by a group ends the id before it.
            i = start.saturating_sub(1);
            break;
        }
        groups += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b':') {
            i += 1;
            continue;
        }
        break;
    }
    // The id must end where a word ends (`abcd-efgh` is words).
    let ends_word = !rest[i..].starts_with(is_word);
    if groups >= 3 && digit && ends_word {
        i
    } else {
        0
    }
}

/// The template of `text` (see [`template_into`]).
pub fn template(text: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    template_into(text, values, &mut out);
    out
}

/// The length of the longest value that starts here and ends where a word ends.
fn value_at(rest: &str, values: &[&str]) -> Option<usize> {
    values
        .iter()
        .filter(|v| v.len() >= MIN_VALUE && rest.starts_with(**v))
        .filter(|v| !rest[v.len()..].starts_with(is_word))
        .map(|v| v.len())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_ports_and_times_do_not_make_a_new_template() {
        let a = template(
            "Failed password for root from 203.0.113.45 port 62389 ssh2",
            &[],
        );
        let b = template(
            "Failed password for root from 198.51.100.7 port 1022 ssh2",
            &[],
        );
        assert_eq!(a, b);
        assert_eq!(a, "Failed password for root from #.#.#.# port # #");
        assert_eq!(
            template("done at 2026-11-20T12:58:20.327Z in 35ms", &[]),
            template("done at 2025-01-02T03:04:05.000Z in 1200ms", &[])
        );
    }

    #[test]
    fn the_event_s_own_values_are_taken_out() {
        let a = template(
            "Failed password for root from 203.0.113.45",
            &["root", "203.0.113.45"],
        );
        let b = template(
            "Failed password for admin from 10.0.0.1",
            &["admin", "10.0.0.1"],
        );
        assert_eq!(a, b);
        assert_eq!(a, "Failed password for ‹ from ‹");
        // A value is only taken out as a whole word: `root` is not taken out of `rooted`.
        assert_eq!(template("rooted by root", &["root"]), "rooted by ‹");
        // The longest value wins where two start at the same place.
        assert_eq!(
            template("user system:node:n1 said", &["system", "system:node:n1"]),
            "user ‹ said"
        );
        // Short values would take pieces of words out: they are left.
        assert_eq!(template("ok by me", &["me"]), "ok by me");
    }

    #[test]
    fn different_words_stay_different() {
        assert_ne!(
            template("Accepted password for ‹ from", &[]),
            template("Failed password for ‹ from", &[])
        );
        assert_ne!(
            template("GET /v1/orders 200", &[]),
            template("GET /v1/products 200", &[])
        );
        assert_eq!(template("GET /v1/orders 200", &[]), "GET /#/orders #");
    }

    #[test]
    fn ids_with_dashes_and_colons_are_one_number() {
        assert_eq!(
            template("req 3f2a91bc-abcd-4123-8def-0a1b2c3d4e5f done", &[]),
            "req # done"
        );
        assert_eq!(
            template("req deadbeef-abcd-4123-8def-0a1b2c3d4e5f done", &[]),
            "req # done"
        );
        assert_eq!(template("mac 02:42:ac:11:00:02.", &[]), "mac #.");
        assert_eq!(template("at 12:58:20 ok", &[]), "at # ok");
        // Words joined by dashes are words: `kube-controller-manager`, `ad-hoc-fix`.
        assert_eq!(
            template("kube-controller-manager ad-hoc", &[]),
            "kube-controller-manager ad-hoc"
        );
        assert_eq!(template("face-bad-cafe x", &[]), "face-bad-cafe x");
        assert_eq!(template("container deadbeefcafe", &[]), "container #");
    }

    #[test]
    fn ids_and_hashes_are_numbers() {
        assert_eq!(
            template("key SHA256:DJCaBcdEfGhIjKlMnOpQrS for ci", &[]),
            "key #:# for ci"
        );
        assert_eq!(template("container 5f2c1a9b3d4e", &[]), "container #");
        // Text that is not ASCII is kept, and never split inside a character.
        assert_eq!(template("Échec 3 fois → root", &[]), "Échec # fois → root");
    }
}
