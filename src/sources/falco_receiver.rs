//! The built-in receiver for Falco's `http_output` and falcosidekick's webhook: POSTed Falco
//! records become events at once, so live Falco needs no other server (`--falco-listen ADDR`).
//!
//! Every POST body is one Falco record (what both send), or several as JSON lines. The answer
//! is 200 when every record was taken, 400 naming the first problem otherwise; bodies over
//! 16 MiB are refused with 413. Nothing here prints to the terminal.

use super::falco::{parse_record, FalcoRecord};
use super::task::{Cancel, SourceMessage};
use super::EntityTable;
use crate::load::SourceReport;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The largest body accepted.
pub const MAX_BODY: usize = 16 << 20;
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;

struct Shared {
    source: usize,
    name: String,
    table: EntityTable,
    report: Mutex<SourceReport>,
    send: Box<dyn Fn(SourceMessage) -> bool + Send + Sync>,
}

/// Binds now (so a bad or busy address is an immediate error) and serves on a thread until
/// cancelled. Returns the address actually bound (port 0 picks a free one) and the report.
pub fn spawn(
    addr: &str,
    source: usize,
    table: EntityTable,
    cancel: Cancel,
    send: impl Fn(SourceMessage) -> bool + Send + Sync + 'static,
) -> Result<(SocketAddr, SourceReport), String> {
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let name = format!("falco:http://{local}");
    let mut report = SourceReport::new(
        &name,
        crate::model::SourceKind::Falco,
        &format!("POST http://{local}/"),
    );
    report.live = true;
    let placeholder = report.clone();
    let shared = Arc::new(Shared {
        source,
        name,
        table,
        report: Mutex::new(report),
        send: Box::new(send),
    });
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let outcome =
            super::task::catch_panic(|| rt.block_on(serve(listener, shared.clone(), cancel)));
        if let (Err(panic), Ok(mut r)) = (outcome, shared.report.lock()) {
            r.error = Some(format!(
                "internal error, the receiver stopped: {}",
                crate::sanitize::line(&panic)
            ));
        }
        let report = shared.report.lock().map(|mut r| {
            r.live = false;
            r.cancelled = true;
            r.clone()
        });
        if let Ok(report) = report {
            (shared.send)(SourceMessage::Finished {
                source: shared.source,
                report,
            });
        }
    });
    Ok((local, placeholder))
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, cancel: Cancel) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    while !cancel.is_cancelled() {
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        let Ok(Ok((stream, _))) = accepted else {
            continue;
        };
        // At most this many connections at once, so bodies in flight stay bounded.
        let Ok(permit) = connections.clone().acquire_owned().await else {
            return;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| handle(req, shared.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Parses a body's records and counts them in the report (no await while the lock is held).
fn take(
    body: &[u8],
    shared: &Shared,
) -> Option<(Vec<crate::model::Event>, SourceReport, Option<String>)> {
    let text = String::from_utf8_lossy(body);
    let mut events = Vec::new();
    let mut first_problem = None;
    let mut report = shared.report.lock().ok()?;
    // One record per body (Falco, falcosidekick), or JSON lines.
    let records: Vec<&str> = if text.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok()
    {
        vec![text.as_ref()]
    } else {
        text.lines().filter(|l| !l.trim().is_empty()).collect()
    };
    for (i, record) in records.iter().enumerate() {
        match parse_record(record, &shared.name, &shared.table) {
            Ok(FalcoRecord::Event(e)) => events.push(*e),
            Ok(FalcoRecord::Internal) => report.ignored += 1,
            Err(reason) => {
                report.skipped.skip(i + 1, reason.clone(), record);
                first_problem.get_or_insert(reason);
            }
        }
    }
    report.events += events.len();
    Some((events, report.clone(), first_problem))
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != Method::POST {
        return Ok(answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST Falco records here",
        ));
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let status = if e.is::<http_body_util::LengthLimitError>() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return Ok(answer(status, &format!("cannot read the body: {e}")));
        }
    };
    let Some((events, snapshot, first_problem)) = take(&body, &shared) else {
        return Ok(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "receiver state lost",
        ));
    };
    // Sending may wait for a busy UI: off the async thread, so other connections go on.
    let problem = first_problem.is_some();
    let sender = shared.clone();
    let _ = tokio::task::spawn_blocking(move || {
        if !events.is_empty() {
            (sender.send)(SourceMessage::Batch {
                source: sender.source,
                events,
            });
        }
        if problem {
            (sender.send)(SourceMessage::Update {
                source: sender.source,
                report: snapshot,
            });
        }
    })
    .await;
    Ok(match first_problem {
        None => answer(StatusCode::OK, "ok"),
        Some(p) => answer(StatusCode::BAD_REQUEST, &crate::sanitize::line(&p)),
    })
}
