//! Kubernetes audit logs: `audit.k8s.io` Event lines as the API server writes them
//! (`--audit-log-path`) or a webhook backend receives them. What a responder looks for is
//! named in the title: execs and attaches into pods, RBAC changes, secret reads, privileged
//! pods, denied requests.

use super::json_lines::{self, Record};
use super::json_path::{get, int, text, texts};
use super::mapping::EntityTable;
use super::Parsed;
use crate::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind};
use serde_json::Value;
use std::io::BufRead;

/// Reads an audit log (one Event a line). Events of other kinds (an `EventList` line) are
/// skipped with their reason.
pub fn parse_lines(
    reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
) -> (Parsed, Option<std::io::Error>) {
    json_lines::parse(reader, "", |doc, raw| {
        audit_event(doc, raw, source_name, table).map(|e| Record::Event(Box::new(e)))
    })
}

/// The request one audit event records.
struct Request {
    user: String,
    verb: String,
    resource: String,
    subresource: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    code: Option<i64>,
    denied: bool,
}

impl Request {
    fn read(doc: &Value) -> Result<Request, String> {
        if text(doc, "kind").is_some_and(|k| k != "Event") {
            return Err("not an audit event: `kind` is not Event".into());
        }
        let verb = text(doc, "verb").ok_or("not an audit event: no `verb`")?;
        let code = int(doc, "responseStatus.code");
        let decision = annotation(doc, "authorization.k8s.io/decision");
        Ok(Request {
            user: text(doc, "user.username").unwrap_or_else(|| "(unknown user)".into()),
            verb,
            resource: text(doc, "objectRef.resource").unwrap_or_default(),
            subresource: text(doc, "objectRef.subresource"),
            namespace: text(doc, "objectRef.namespace"),
            name: text(doc, "objectRef.name").or_else(|| text(doc, "responseObject.metadata.name")),
            code,
            denied: decision.as_deref() == Some("forbid") || matches!(code, Some(401 | 403)),
        })
    }

    /// `prod/api-7d9f-x2k4q`, `clusterrolebindings` have no namespace: `mallory-admin`.
    fn object(&self) -> String {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.clone(),
            (Some(ns), None) => format!("in {ns}"),
            (None, None) => "(all namespaces)".into(),
        }
    }

    /// `pods/exec`, as `kubectl auth can-i` names it.
    fn resource_path(&self) -> String {
        match &self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.clone(),
        }
    }

    fn writes(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection" | "bind" | "escalate"
        )
    }
}

/// Annotations are keyed by names with dots and slashes: looked up directly.
fn annotation(doc: &Value, key: &str) -> Option<String> {
    doc.get("annotations")?
        .get(key)?
        .as_str()
        .map(str::to_string)
}

pub fn audit_event(
    doc: &Value,
    raw: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Event, String> {
    let req = Request::read(doc)?;
    let ts = json_lines::first_time(
        doc,
        &[
            "requestReceivedTimestamp",
            "stageTimestamp",
            "timestamp",
            "metadata.creationTimestamp",
        ],
        |_| None,
    )
    .ok_or("no usable time (`requestReceivedTimestamp`, `stageTimestamp`)")?;
    let mut entities = Entities::new();
    table.apply_json(&[doc], &mut entities);
    add_objects(doc, &req, &mut entities);
    let (title, mut severity, mut tags) = classify(doc, &req);
    if req.denied {
        // A refused request is worth a look, whatever it asked for.
        severity = severity.min(Severity::Notice);
        tags.push("denied".into());
    }
    let ips = texts(doc, "sourceIPs").join(",");
    let mut message = format!(
        "{} {} {} {}",
        req.user,
        req.verb,
        req.resource_path(),
        req.object()
    );
    if let Some(code) = req.code {
        message.push_str(&format!(" -> {code}"));
    }
    if !ips.is_empty() {
        message.push_str(&format!(" from {ips}"));
    }
    Ok(Event {
        ts,
        source: SourceKind::K8sAudit,
        source_name: source_name.to_string(),
        kind: EventKind::Audit,
        severity,
        title: if req.denied {
            format!("{title} (denied)")
        } else {
            title
        },
        message,
        entities,
        process: None,
        tags,
        raw: raw.to_string(),
    })
}

/// Pods, the images a request runs, and the subjects an RBAC binding grants to.
fn add_objects(doc: &Value, req: &Request, out: &mut Entities) {
    if req.resource == "pods" {
        if let Some(name) = &req.name {
            out.add(EntityKey::Pod, name);
        }
    }
    for spec in pod_specs(doc) {
        for image in container_values(spec, "image") {
            out.add(EntityKey::Image, &image);
        }
    }
    if let Some(subjects) = get(doc, "requestObject.subjects").and_then(Value::as_array) {
        for s in subjects {
            if let Some(name) = text(s, "name") {
                match text(s, "kind").as_deref() {
                    Some("ServiceAccount") => {
                        let ns = text(s, "namespace").unwrap_or_default();
                        out.add(
                            EntityKey::User,
                            &format!("system:serviceaccount:{ns}:{name}"),
                        );
                    }
                    Some("User") => out.add(EntityKey::User, &name),
                    _ => {}
                }
            }
        }
    }
}

/// The pod specs a request carries: a pod's own, or a workload's template.
fn pod_specs(doc: &Value) -> Vec<&Value> {
    ["requestObject.spec", "requestObject.spec.template.spec"]
        .iter()
        .filter_map(|p| get(doc, p))
        .filter(|s| s.get("containers").is_some())
        .collect()
}

/// A field of every container of a pod spec (init and ephemeral containers too).
fn container_values(spec: &Value, field: &str) -> Vec<String> {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(k)?.as_array())
        .flatten()
        .filter_map(|c| text(c, field))
        .collect()
}

fn privileged(doc: &Value) -> bool {
    pod_specs(doc).into_iter().any(|spec| {
        ["hostPID", "hostNetwork", "hostIPC"]
            .iter()
            .any(|k| spec.get(k).and_then(Value::as_bool) == Some(true))
            || ["containers", "initContainers", "ephemeralContainers"]
                .iter()
                .filter_map(|k| spec.get(k)?.as_array())
                .flatten()
                .any(|c| {
                    get(c, "securityContext.privileged").and_then(Value::as_bool) == Some(true)
                })
    })
}

const RBAC: [&str; 4] = [
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
];

/// What the request was, for a responder: title, severity and tags.
fn classify(doc: &Value, req: &Request) -> (String, Severity, Vec<String>) {
    let sub = req.subresource.as_deref();
    if req.resource == "pods" && matches!(sub, Some("exec" | "attach" | "portforward")) {
        let verb = match sub {
            Some("exec") => "exec into",
            Some("attach") => "attach to",
            _ => "port-forward to",
        };
        let command = exec_command(doc);
        let title = if command.is_empty() {
            format!("{verb} pod {}", req.object())
        } else {
            format!("{verb} pod {}: {command}", req.object())
        };
        return (
            title,
            Severity::Warning,
            vec![format!("pods_{}", sub.unwrap_or(""))],
        );
    }
    if RBAC.contains(&req.resource.as_str()) && req.writes() {
        let role = text(doc, "requestObject.roleRef.name");
        let mut title = format!(
            "RBAC change: {} {} {}",
            req.verb,
            req.resource,
            req.object()
        );
        if let Some(role) = &role {
            let kind = text(doc, "requestObject.roleRef.kind").unwrap_or_default();
            title.push_str(&format!(" (roleRef {kind} {role})"));
        }
        let severity = if role.as_deref() == Some("cluster-admin") {
            Severity::Error
        } else {
            Severity::Warning
        };
        return (title, severity, vec!["rbac".into()]);
    }
    if req.resource == "secrets" && sub.is_none() {
        let reads = matches!(req.verb.as_str(), "get" | "list" | "watch");
        let title = if reads {
            format!("secret read: {} {}", req.verb, req.object())
        } else {
            format!("secret {}: {}", req.verb, req.object())
        };
        return (title, Severity::Notice, vec!["secrets".into()]);
    }
    if req.verb == "create" && privileged(doc) {
        let title = format!(
            "privileged {} created: {}",
            singular(&req.resource),
            req.object()
        );
        return (title, Severity::Error, vec!["privileged".into()]);
    }
    let title = format!("{} {} {}", req.verb, req.resource_path(), req.object());
    (title, Severity::Info, Vec::new())
}

fn singular(resource: &str) -> &str {
    resource.strip_suffix('s').unwrap_or(resource)
}

/// The command of an exec, from the request URI's `command=` parameters (one per word).
fn exec_command(doc: &Value) -> String {
    let uri = text(doc, "requestURI").unwrap_or_default();
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("command="))
        .map(|word| super::spec::percent_decode(&word.replace('+', " ")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_commands_are_decoded_word_by_word() {
        let doc = serde_json::json!({"requestURI":
            "/api/v1/namespaces/p/pods/x/exec?command=sh&command=-c&command=echo%20hi%3B+id&stdin=true"});
        assert_eq!(exec_command(&doc), "sh -c echo hi; id");
        assert_eq!(exec_command(&serde_json::json!({})), "");
    }
}
