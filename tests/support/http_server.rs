//! A small loopback HTTP/1.1 server for tests that talk to fake Loki and Elasticsearch
//! servers, and the helpers those tests share (running the binary with a deadline, RFC 3339
//! times, Basic credentials, a seeded random generator).
//!
//! The server listens on `127.0.0.1:0` only, runs a thread per connection, keeps connections
//! alive (reqwest reuses them), records every request (method, path, decoded query, headers,
//! body, arrival time) and answers through a handler closure. Besides ordinary answers it can
//! misbehave on purpose: never answer, send the headers and then nothing, or promise a longer
//! body than it sends and close. Dropping the server stops it: the listener closes, every
//! connection is shut down and every thread ends.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a blocked read waits before looking at the shutdown flag again.
const POLL: Duration = Duration::from_millis(25);
/// The largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Requests

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target exactly as sent (`/loki/api/v1/query_range?query=…`).
    pub target: String,
    /// The path, percent-decoded.
    pub path: String,
    /// Query parameters in order, percent-decoded (`+` is a space).
    pub query: Vec<(String, String)>,
    /// Header names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request's head was complete.
    pub at: Instant,
    /// Which connection carried it (numbered from 0 in accept order).
    pub connection: usize,
}

impl Request {
    /// The first query parameter with this name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, or `Null` when it is empty or not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

/// What the handler wants done with a request.
#[derive(Debug, Clone)]
pub enum Response {
    /// A complete answer. The server writes `Content-Length` itself (any given one is
    /// dropped); when the headers say `Transfer-Encoding: chunked`, the body is sent chunked.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, never answer; the connection stays open until the client gives up
    /// or the server is dropped.
    Stall,
    /// Send the status line and headers (with `Content-Length: content_length`), then nothing.
    HeadersThenStall {
        status: u16,
        headers: Vec<(String, String)>,
        content_length: usize,
    },
    /// Send headers promising `content_length` bytes, then only `body` (shorter), then close.
    Truncated {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        content_length: usize,
    },
}

impl Response {
    /// An empty answer with this status.
    pub fn new(status: u16) -> Response {
        Response::Full {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status)
            .header("Content-Type", "application/json; charset=UTF-8")
            .body(body)
    }

    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body)
    }

    /// An answer with the status and headers of a block recorded by `curl -D` (status line,
    /// headers, CRLF line ends, blank line), and this body. The recorded `Content-Length` is
    /// replaced by the real one; a recorded `Transfer-Encoding: chunked` is honoured.
    pub fn recorded(headers_block: &str, body: impl Into<Vec<u8>>) -> Response {
        let mut lines = headers_block.lines().map(|l| l.trim_end_matches('\r'));
        let status_line = lines
            .next()
            .expect("recorded headers start with a status line");
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
        let mut response = Response::new(status);
        for line in lines.take_while(|l| !l.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("not a header line: {line:?}"));
            response = response.header(name.trim(), value.trim());
        }
        response.body(body)
    }

    /// Adds a header (to any variant that sends headers).
    pub fn header(mut self, name: &str, value: &str) -> Response {
        match &mut self {
            Response::Full { headers, .. }
            | Response::HeadersThenStall { headers, .. }
            | Response::Truncated { headers, .. } => {
                headers.push((name.to_string(), value.to_string()))
            }
            Response::Stall => {}
        }
        self
    }

    /// Sets the body of a `Full` answer.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Response {
        if let Response::Full { body, .. } = &mut self {
            *body = bytes.into();
        }
        self
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Response::Full { status, .. }
            | Response::HeadersThenStall { status, .. }
            | Response::Truncated { status, .. } => Some(*status),
            Response::Stall => None,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------------
// The server

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<Request>>,
    panics: Mutex<Vec<String>>,
    shutdown: AtomicBool,
    connections: AtomicUsize,
    /// Clones of every accepted stream, to shut them down on drop.
    streams: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A running server. Drop it to stop it.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a free loopback port that answers every request with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        assert!(
            addr.ip().is_loopback(),
            "test servers listen on loopback only"
        );
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            panics: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            streams: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name(format!("test-http-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn the accept thread");
        Server {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`: what casefile names the source after.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// The requests received so far for one path, in arrival order.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The number of connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Handler panics (each answered with a 500), so a test can say what went wrong inside.
    pub fn handler_panics(&self) -> Vec<String> {
        lock(&self.shared.panics).clone()
    }

    /// Waits until at least `n` requests have arrived; false when `timeout` passes first.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if lock(&self.shared.requests).len() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for s in lock(&self.shared.streams).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Connection threads notice the flag (or their shut-down socket) within one poll; a
        // handler that never returns is left behind rather than hanging the test.
        let threads: Vec<_> = lock(&self.shared.threads).drain(..).collect();
        let deadline = Instant::now() + Duration::from_secs(2);
        for t in threads {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// A URL where nothing listens: a loopback port that was bound and released.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                assert!(peer.ip().is_loopback());
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_nodelay(true);
                let _ = stream.set_read_timeout(Some(POLL));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
                if let Ok(clone) = stream.try_clone() {
                    lock(&shared.streams).push(clone);
                }
                let id = shared.connections.fetch_add(1, Ordering::SeqCst);
                let conn_shared = shared.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("test-http-conn-{id}"))
                    .spawn(move || serve_connection(stream, id, conn_shared));
                if let Ok(handle) = spawned {
                    lock(&shared.threads).push(handle);
                }
            }
            // Nothing to accept yet (or a transient error): look again shortly.
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn serve_connection(mut stream: TcpStream, id: usize, shared: Arc<Shared>) {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf, id, &shared) {
        lock(&shared.requests).push(req.clone());
        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| (shared.handler)(&req)));
        let response = answer.unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "handler panicked".to_string());
            lock(&shared.panics).push(msg.clone());
            Response::text(500, format!("test server handler panicked: {msg}"))
        });
        let client_closes = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match response {
            Response::Full {
                status,
                headers,
                body,
            } => {
                let close = client_closes || shared.shutdown.load(Ordering::SeqCst);
                if write_full(&mut stream, status, &headers, &body, close).is_err() || close {
                    break;
                }
            }
            Response::Stall => {
                stall(&mut stream, &shared);
                break;
            }
            Response::HeadersThenStall {
                status,
                headers,
                content_length,
            } => {
                let head = head(status, &headers, Some(content_length), false);
                if stream.write_all(head.as_bytes()).is_ok() && stream.flush().is_ok() {
                    stall(&mut stream, &shared);
                }
                break;
            }
            Response::Truncated {
                status,
                headers,
                body,
                content_length,
            } => {
                let head = head(status, &headers, Some(content_length), false);
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
                break;
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Holds the connection open without answering until the peer closes it or the server stops.
fn stall(stream: &mut TcpStream, shared: &Shared) {
    let mut scratch = [0u8; 4096];
    while !shared.shutdown.load(Ordering::SeqCst) {
        match stream.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

fn head(status: u16, headers: &[(String, String)], length: Option<usize>, close: bool) -> String {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("connection") {
            continue;
        }
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = length {
        out.push_str(&format!("Content-Length: {n}\r\n"));
    }
    out.push_str(if close {
        "Connection: close\r\n"
    } else {
        "Connection: keep-alive\r\n"
    });
    out.push_str("\r\n");
    out
}

fn write_full(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        stream.write_all(head(status, headers, None, close).as_bytes())?;
        for chunk in body.chunks(16 * 1024) {
            stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
            stream.write_all(chunk)?;
            stream.write_all(b"\r\n")?;
        }
        stream.write_all(b"0\r\n\r\n")?;
    } else {
        let no_body = status == 204 || status == 304;
        let length = (!no_body).then_some(body.len());
        stream.write_all(head(status, headers, length, close).as_bytes())?;
        if !no_body {
            stream.write_all(body)?;
        }
    }
    stream.flush()
}

/// Reads more bytes into `buf`; false at the end of the stream, on an error, or at shutdown.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return false;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The next request on the connection (keep-alive and pipelining: what follows stays in
/// `buf`), or None when the connection ends.
fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    connection: usize,
    shared: &Shared,
) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD || !fill(stream, buf, shared) {
            return None;
        }
    };
    let at = Instant::now();
    let head_text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head_text.split("\r\n");
    let request_line = lines.next()?;
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(stream, buf, shared)?
    } else {
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < length {
            if !fill(stream, buf, shared) {
                return None;
            }
        }
        buf.drain(..length).collect()
    };
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
    let query = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect();
    Some(Request {
        path: decode(raw_path, false),
        method,
        target: target.clone(),
        query,
        headers,
        body,
        at,
        connection,
    })
}

fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            if !fill(stream, buf, shared) {
                return None;
            }
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        buf.drain(..line_end + 2);
        while buf.len() < size + 2 {
            if !fill(stream, buf, shared) {
                return None;
            }
        }
        body.extend(buf.drain(..size));
        buf.drain(..2);
        if size == 0 {
            // No trailers are sent by the clients under test.
            return Some(body);
        }
    }
}

/// Percent-decoding; in query strings `+` is a space.
pub fn decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Running the binary

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Variables that would change what casefile asks or how it connects: removed from every run.
const CLEARED_ENV: &[&str] = &[
    "LOKI_ADDR",
    "LOKI_ORG_ID",
    "LOKI_BEARER_TOKEN",
    "LOKI_BEARER_TOKEN_FILE",
    "LOKI_USERNAME",
    "LOKI_PASSWORD",
    "LOKI_CA_CERT_PATH",
    "LOKI_TLS_SKIP_VERIFY",
    "ES_API_KEY",
    "ES_USERNAME",
    "ES_PASSWORD",
    "ES_CA_CERT",
    "PROMETHEUS_BEARER_TOKEN",
    "ALERTMANAGER_BEARER_TOKEN",
    "ZABBIX_API_TOKEN",
    "GRAFANA_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_COLOR",
];

/// Runs `casefile ARGS` with `env` set (and no user config, credentials or proxies from the
/// test's environment); kills it and panics when it takes longer than `timeout`.
pub fn run_casefile(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(args)
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("casefile-live-test-no-config"),
        )
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in CLEARED_ENV {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start casefile");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for casefile") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let stderr =
                String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
            panic!("casefile {args:?} did not finish within {timeout:?}; stderr so far:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed,
    }
}

/// The path of a test's fixture file under tests/fixtures.
pub fn fixture_path(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    path.display().to_string()
}

/// A test's fixture file under tests/fixtures, as text.
pub fn fixture(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Times, credentials, randomness

const NS: i64 = 1_000_000_000;

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Broken-down UTC time of nanoseconds since the epoch: (y, m, d, hh, mm, ss, nanos).
pub fn utc_parts(ns: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let secs = ns.div_euclid(NS);
    let nanos = ns.rem_euclid(NS);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    (y, m, d, s / 3600, s / 60 % 60, s % 60, nanos)
}

/// `2026-11-22T05:00:00.123456789Z`.
pub fn rfc3339_nanos(ns: i64) -> String {
    let (y, mo, d, h, mi, s, n) = utc_parts(ns);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{n:09}Z")
}

/// `2026-11-22T05:00:00.123Z` (as Elasticsearch writes a millisecond date).
pub fn rfc3339_millis(ms: i64) -> String {
    let (y, mo, d, h, mi, s, n) = utc_parts(ms * 1_000_000);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        n / 1_000_000
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset_secs = match &s[i..] {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs * NS + nanos)
}

/// Standard base64 with padding (for the expected `Authorization: Basic …`).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
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

/// A small seeded generator (SplitMix64), so generated data sets are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}
