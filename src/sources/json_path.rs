//! Field lookup in native JSON records, the way the records really come: nested objects,
//! dotted top-level keys (`"event.category"` beside `"event": {…}`, as Elastic stores them), or
//! both mixed at any depth.

use serde_json::Value;

/// The value at a dotted path such as `container.image.hash.all`.
pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = value.as_object()?;
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    // Try every split point: `a.b.c` may be `{"a":{"b.c":…}}`, `{"a.b":{"c":…}}`, …
    let mut search_from = 0;
    while let Some(rel) = path[search_from..].find('.') {
        let dot = search_from + rel;
        if let Some(child) = obj.get(&path[..dot]) {
            if let Some(found) = get(child, &path[dot + 1..]) {
                return Some(found);
            }
        }
        search_from = dot + 1;
    }
    None
}

/// The text of a scalar: strings as they are, numbers and booleans as JSON prints them.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Every scalar at a path: one for a scalar, each element for an array.
pub fn texts(value: &Value, path: &str) -> Vec<String> {
    match get(value, path) {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(v) => scalar_text(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The first scalar at a path, as text.
pub fn text(value: &Value, path: &str) -> Option<String> {
    texts(value, path).into_iter().next()
}

/// An integer at a path, whether the source sent it as a number or as a string.
pub fn int(value: &Value, path: &str) -> Option<i64> {
    match get(value, path)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_dotted_and_mixed_paths() {
        let v = json!({
            "event.category": ["process"],
            "event": {"kind": "alert"},
            "container": {"image.hash.all": ["sha256:ab"]},
            "process": {"pid": "42"}
        });
        assert_eq!(texts(&v, "event.category"), ["process"]);
        assert_eq!(text(&v, "event.kind").as_deref(), Some("alert"));
        assert_eq!(texts(&v, "container.image.hash.all"), ["sha256:ab"]);
        assert_eq!(int(&v, "process.pid"), Some(42));
        assert_eq!(get(&v, "process.ppid"), None);
    }
}
