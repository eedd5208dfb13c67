//! Record formats for stdout. JSON lines are valid JSON with every character a terminal would
//! interpret written as a `\u` escape, so `casefile query | less` is as safe as the TUI.

use crate::model::{EntityKey, Series, Timestamp};
use crate::store::EventRef;
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct EventLine<'a> {
    ts: String,
    source: &'static str,
    source_name: &'a str,
    kind: &'static str,
    severity: &'static str,
    title: &'a str,
    message: &'a str,
    entities: crate::model::Entities,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<crate::model::Process>,
    tags: Vec<&'a str>,
    /// Security-signal categories, kept apart from the entities of SPEC §3.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    categories: Vec<&'a str>,
    raw: RawOrText<'a>,
}

/// The raw record embedded as JSON when it is JSON, else as a string.
#[derive(Serialize)]
#[serde(untagged)]
enum RawOrText<'a> {
    Json(Box<RawValue>),
    Text(&'a str),
}

/// JSON text without the whitespace between tokens (strings untouched), so that one record
/// stays one line and nothing outside a string needs escaping.
fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

pub fn event_json_line(e: &EventRef<'_>) -> String {
    let raw_text = e.raw();
    let raw_text = raw_text.as_ref();
    let raw = match serde_json::from_str::<&RawValue>(raw_text) {
        Ok(_) => RawValue::from_string(compact_json(raw_text))
            .map(RawOrText::Json)
            .unwrap_or(RawOrText::Text(raw_text)),
        Err(_) => RawOrText::Text(raw_text),
    };
    let message = e.message();
    let line = EventLine {
        ts: e.ts().to_rfc3339(),
        source: e.source().as_str(),
        source_name: e.source_name(),
        kind: e.kind().as_str(),
        severity: e.severity().as_str(),
        title: e.title(),
        message: &message,
        entities: e
            .entities()
            .filter(|(k, _)| *k != EntityKey::Category)
            .map(|(k, v)| (k, v.to_string()))
            .collect(),
        process: e.process().map(|p| p.to_process()),
        tags: e.tags().collect(),
        categories: e
            .entities()
            .filter(|(k, _)| *k == EntityKey::Category)
            .map(|(_, v)| v)
            .collect(),
        raw,
    };
    terminal_safe_json(serde_json::to_string(&line).unwrap_or_default())
}

#[derive(Serialize)]
struct MetricLine<'a> {
    ts: String,
    source: &'static str,
    source_name: &'a str,
    kind: &'static str,
    query: &'a str,
    metric: &'a BTreeMap<String, String>,
    value: serde_json::Value,
    entities: &'a crate::model::Entities,
}

/// One metric sample as a line (`"kind":"metric"`, the labels under `metric`, and `value`).
/// Prometheus's `NaN` and `±Inf` have no JSON number, so they are written as Prometheus writes
/// them: strings.
pub fn metric_json_line(series: &Series, ts: Timestamp, value: f64) -> String {
    let value = if value.is_finite() {
        serde_json::Number::from_f64(value)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    } else if value.is_nan() {
        serde_json::Value::String("NaN".into())
    } else if value > 0.0 {
        serde_json::Value::String("+Inf".into())
    } else {
        serde_json::Value::String("-Inf".into())
    };
    let line = MetricLine {
        ts: ts.to_rfc3339(),
        source: series.source.as_str(),
        source_name: &series.source_name,
        kind: "metric",
        query: &series.query,
        metric: &series.labels,
        value,
        entities: &series.entities,
    };
    terminal_safe_json(serde_json::to_string(&line).unwrap_or_default())
}

/// A JSON line with one more field at its end (`"fold":{…}`), escaped as the line is.
pub fn json_line_with(line: String, name: &str, value: &impl Serialize) -> String {
    let Some(open) = line.strip_suffix('}') else {
        return line;
    };
    let value = terminal_safe_json(serde_json::to_string(value).unwrap_or_default());
    format!("{open},\"{name}\":{value}}}")
}

/// JSON whose strings carry no character a terminal would act on: serde_json already escapes
/// C0 controls; this also escapes DEL, C1 controls, bidi controls and invisible characters
/// (above U+FFFF as a surrogate pair, as JSON writes them). The result parses to the same
/// values.
pub(crate) fn terminal_safe_json(json: String) -> String {
    if !json.chars().any(crate::sanitize::needs_escape) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if crate::sanitize::needs_escape(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One aligned, sanitized row for `--format table`.
pub fn table_row(ts: Timestamp, source: &str, severity: &str, title: &str, width: usize) -> String {
    use crate::ui::text::fit;
    format!(
        "{}  {:<16}  {:<8}  {}",
        ts.to_rfc3339(),
        fit(&crate::sanitize::line(source), 16),
        severity,
        fit(&crate::sanitize::line(title), width)
    )
}

/// A metric sample's title for the table: the series name cut so that the value always shows.
pub fn metric_title(series_name: &str, value: f64, width: usize) -> String {
    let value = format!(" = {value}");
    let name = crate::ui::text::fit(
        &crate::sanitize::line(series_name),
        width.saturating_sub(value.len()),
    );
    format!("{name}{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_records_lose_only_the_whitespace_between_tokens() {
        let raw = "{\"a\": 1,\t\"b\" :\n [ \"x y\\\" z\" ] }";
        assert_eq!(compact_json(raw), "{\"a\":1,\"b\":[\"x y\\\" z\"]}");
        let a: serde_json::Value = serde_json::from_str(raw).unwrap();
        let b: serde_json::Value = serde_json::from_str(&compact_json(raw)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn json_lines_escape_what_terminals_interpret_and_stay_equal() {
        let json =
            serde_json::to_string(&serde_json::json!({"m": "a\u{202e}b\u{9b}c\u{7f}"})).unwrap();
        let safe = terminal_safe_json(json.clone());
        assert_eq!(safe, r#"{"m":"a\u202eb\u009bc\u007f"}"#);
        // A tag character (invisible, above U+FFFF) is a surrogate pair.
        let json = serde_json::to_string(&serde_json::json!({"m": "x\u{e0041}"})).unwrap();
        let safe = terminal_safe_json(json.clone());
        assert_eq!(safe, r#"{"m":"x\udb40\udc41"}"#);
        let a: serde_json::Value = serde_json::from_str(&json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(a, b);
        let a: serde_json::Value = serde_json::from_str(&json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(a, b);
    }
}
