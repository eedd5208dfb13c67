//! Prometheus `query_range` / `query` responses: matrices and vectors become metric series.

use super::mapping::EntityTable;
use super::{Parsed, SourceError};
use crate::model::{Entities, Series, SourceKind, Timestamp};
use serde_json::Value;
use std::collections::BTreeMap;

/// Parses a `/api/v1/query_range` or `/api/v1/query` response body. A response with
/// `"status":"error"` gives the server's own `error` text.
pub fn parse_response(
    body: &str,
    source_name: &str,
    query: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        SourceError::Malformed(format!(
            "Prometheus response is not JSON ({e}): {}",
            crate::sanitize::line(&body.chars().take(200).collect::<String>())
        ))
    })?;
    if value.get("status").and_then(Value::as_str) != Some("success") {
        let kind = value
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let msg = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("response without status \"success\"");
        return Err(SourceError::Server(format!("{kind}: {msg}")));
    }
    let data = value
        .get("data")
        .ok_or_else(|| SourceError::Malformed("no `data`".into()))?;
    let mut parsed = Parsed::default();
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix") | Some("vector") => {
            let results = data.get("result").and_then(Value::as_array);
            for (i, r) in results.into_iter().flatten().enumerate() {
                match series_from_result(r, SourceKind::Prometheus, source_name, query, table) {
                    Ok(s) => parsed.series.push(s),
                    Err(reason) => parsed.skipped.skip(i + 1, reason, &r.to_string()),
                }
            }
        }
        Some("scalar") | Some("string") => {
            // A single unlabelled sample: one series named after the query.
            if let Some(sample) = data.get("result").and_then(sample) {
                parsed.series.push(Series {
                    source: SourceKind::Prometheus,
                    source_name: source_name.to_string(),
                    query: query.to_string(),
                    labels: BTreeMap::new(),
                    entities: Entities::new(),
                    samples: vec![sample],
                });
            }
        }
        other => {
            return Err(SourceError::Malformed(format!(
                "unsupported resultType {}",
                crate::sanitize::line(&format!("{other:?}"))
            )))
        }
    }
    Ok(parsed)
}

/// One `{"metric":{…},"values":[[t,"v"],…]}` (or `"value":[t,"v"]`) result.
pub fn series_from_result(
    result: &Value,
    source: SourceKind,
    source_name: &str,
    query: &str,
    table: &EntityTable,
) -> Result<Series, String> {
    let labels: BTreeMap<String, String> = result
        .get("metric")
        .and_then(Value::as_object)
        .ok_or("result without `metric`")?
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    let mut samples = Vec::new();
    if let Some(values) = result.get("values").and_then(Value::as_array) {
        for v in values {
            samples.push(sample(v).ok_or_else(|| format!("bad sample {v}"))?);
        }
    } else if let Some(v) = result.get("value") {
        samples.push(sample(v).ok_or_else(|| format!("bad sample {v}"))?);
    } else {
        return Err("result without `values` or `value`".into());
    }
    let mut entities = Entities::new();
    table.apply_pairs(
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &mut entities,
    );
    Ok(Series {
        source,
        source_name: source_name.to_string(),
        query: query.to_string(),
        labels,
        entities,
        samples,
    })
}

/// `[1795321440, "0.0558"]`: seconds (integer or float) and the value as a string, which may be
/// `NaN`, `+Inf` or `-Inf`.
fn sample(v: &Value) -> Option<(Timestamp, f64)> {
    let pair = v.as_array()?;
    let secs = pair.first()?.as_f64()?;
    let value: f64 = match pair.get(1)? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some((Timestamp::from_secs_f64(secs)?, value))
}

/// `/api/v1/alerts` (`data.alerts`) or `/api/v1/rules` (`data.groups[].rules[].alerts`): each
/// pending or firing alert becomes a timeline event at its `activeAt`.
pub fn parse_alerts(
    body: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| SourceError::Malformed(format!("Prometheus response is not JSON ({e})")))?;
    if value.get("status").and_then(Value::as_str) != Some("success") {
        let msg = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("response without status \"success\"");
        return Err(SourceError::Server(msg.to_string()));
    }
    let data = value.get("data").unwrap_or(&Value::Null);
    let mut alerts: Vec<&Value> = data
        .get("alerts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    for group in data
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for rule in group
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            alerts.extend(
                rule.get("alerts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        }
    }
    let mut parsed = Parsed::default();
    for (i, alert) in alerts.into_iter().enumerate() {
        match alert_event(alert, source_name, table) {
            Ok(e) => parsed.events.push(e),
            Err(reason) => parsed.skipped.skip(i + 1, reason, &alert.to_string()),
        }
    }
    Ok(parsed)
}

/// What makes two alert records the same alert: its labels, its state and when it became active.
/// `value` is left out: `/api/v1/alerts` and `/api/v1/rules` are asked one after the other, and a
/// rule evaluated in between gives the same alert a new value.
pub fn alert_identity(raw: &str) -> String {
    let Ok(alert) = serde_json::from_str::<Value>(raw) else {
        return raw.to_string();
    };
    let field = |k: &str| alert.get(k).map(Value::to_string).unwrap_or_default();
    format!(
        "{}|{}|{}",
        field("labels"),
        field("state"),
        field("activeAt")
    )
}

fn alert_event(
    alert: &Value,
    source_name: &str,
    table: &EntityTable,
) -> Result<crate::model::Event, String> {
    use crate::model::{Event, EventKind, Severity};
    let labels: BTreeMap<String, String> = alert
        .get("labels")
        .and_then(Value::as_object)
        .ok_or("alert without labels")?
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    let text = |path: &str| super::json_path::text(alert, path);
    let ts = text("activeAt")
        .and_then(|t| Timestamp::parse_rfc3339(&t))
        .ok_or("alert without a usable activeAt")?;
    let name = labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| "alert".into());
    let state = text("state").unwrap_or_default();
    let summary = text("annotations.summary")
        .or_else(|| text("annotations.description"))
        .unwrap_or_default();
    let severity = labels
        .get("severity")
        .and_then(|s| Severity::parse_loose(s))
        .unwrap_or(Severity::Warning);
    let mut entities = Entities::new();
    table.apply_pairs(
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &mut entities,
    );
    Ok(Event {
        ts,
        source: SourceKind::Prometheus,
        source_name: source_name.to_string(),
        kind: EventKind::AlertFiring,
        severity,
        title: format!("{name} ({state})"),
        message: summary,
        entities,
        process: None,
        tags: Vec::new(),
        raw: alert.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::alert_identity;

    #[test]
    fn an_alert_re_evaluated_between_two_requests_is_still_one_alert() {
        let at = r#""state":"pending","activeAt":"2026-11-23T07:00:00Z""#;
        let first = format!(
            r#"{{"labels":{{"alertname":"EgressSpike","pod":"a"}},{at},"value":"1.5e+00"}}"#
        );
        let later = format!(
            r#"{{"labels":{{"alertname":"EgressSpike","pod":"a"}},{at},"value":"2.5e+00"}}"#
        );
        let other_pod = format!(
            r#"{{"labels":{{"alertname":"EgressSpike","pod":"b"}},{at},"value":"1.5e+00"}}"#
        );
        assert_eq!(alert_identity(&first), alert_identity(&later));
        assert_ne!(alert_identity(&first), alert_identity(&other_pod));
        let firing = first.replace("pending", "firing");
        assert_ne!(alert_identity(&first), alert_identity(&firing));
    }
}
