use crate::model::EntityKey;
use crate::store::Store;

/// The detail of the selected event, prepared once when the selection changes so that drawing
/// only reads it.
#[derive(Debug, Clone, Default)]
pub struct DetailState {
    pub pos: Option<u32>,
    /// The event's entities with how many events carry each.
    pub entities: Vec<(EntityKey, String, usize)>,
    pub cursor: usize,
    pub scroll: u16,
    /// The raw record pretty-printed (still untrusted: sanitized when drawn).
    pub raw_pretty: String,
}

impl DetailState {
    /// Forgets the prepared event, so the next `sync` rebuilds it (its position may now hold
    /// another event).
    pub fn invalidate(&mut self) {
        self.pos = None;
    }

    pub fn sync(&mut self, store: &Store, pos: Option<u32>) {
        if pos == self.pos {
            return;
        }
        self.pos = pos;
        self.cursor = 0;
        self.scroll = 0;
        self.entities.clear();
        self.raw_pretty.clear();
        let Some(e) = pos.and_then(|p| store.get(p)) else {
            return;
        };
        self.entities = e
            .entities()
            .map(|(k, v)| (k, v.to_string(), store.entity_count(k, v)))
            .collect();
        self.raw_pretty = pretty_json(&e.raw());
    }

    pub fn chosen(&self) -> Option<(EntityKey, &str)> {
        self.entities
            .get(self.cursor)
            .map(|(k, v, _)| (*k, v.as_str()))
    }

    pub fn move_cursor(&mut self, delta: isize) {
        if self.entities.is_empty() {
            return;
        }
        let last = self.entities.len() as isize - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, last) as usize;
    }
}

/// JSON text re-indented two spaces per level, keys in the record's own order and every byte of
/// every string kept as it was (escapes included). Text that is not valid JSON is returned as is.
pub fn pretty_json(text: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                // Empty containers stay on one line.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}') | Some(']')) {
                    out.push(c);
                    if let Some(close) = chars.next() {
                        out.push(close);
                    }
                } else {
                    out.push(c);
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn keeps_order_and_string_bytes() {
        let raw = r#"{"z":1,"a":{"s":"x, y: {\"q\"}","e":[],"o":{}},"l":[1, 2]}"#;
        let pretty = pretty_json(raw);
        assert_eq!(
            pretty,
            "{\n  \"z\": 1,\n  \"a\": {\n    \"s\": \"x, y: {\\\"q\\\"}\",\n    \"e\": [],\n    \"o\": {}\n  },\n  \"l\": [\n    1,\n    2\n  ]\n}"
        );
        let a: serde_json::Value = serde_json::from_str(raw).unwrap();
        let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(a, b);
        assert_eq!(pretty_json("not json {"), "not json {");
    }
}
