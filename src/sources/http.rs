//! HTTP for every live source: TLS (rustls, verification on), authentication, tenant header,
//! timeouts, and back-off on 429 and 503 that respects `Retry-After`. Errors keep the server's
//! own words; credentials never appear in them.

use super::spec::{Auth, Endpoint};
use super::task::Cancel;
use reqwest::{Method, StatusCode};
use std::fmt;
use std::time::Duration;

/// How often a 429 or 503 is retried before the server's answer is reported.
const RETRIES: u32 = 4;
/// The largest answer accepted: a page of 5,000 Loki lines or 1,000 documents is far less.
pub const MAX_BODY: usize = 256 << 20;
/// The longest wait between retries, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The request never got an answer: connection refused, DNS, TLS, timeout. The text
    /// carries the cause, from the outermost to the innermost error.
    Transport(String),
    /// The server answered with an error status; `body` is what it said.
    Status {
        code: u16,
        body: String,
    },
    Cancelled,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Transport(m) => f.write_str(m),
            FetchError::Status { code, body } => {
                let body = body.trim();
                let reason = StatusCode::from_u16(*code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                if body.is_empty() {
                    write!(f, "HTTP {code} {reason}")
                } else {
                    write!(
                        f,
                        "HTTP {code}: {}",
                        crate::sanitize::line(&body.chars().take(300).collect::<String>())
                    )
                }
            }
            FetchError::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// A client for one endpoint.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    endpoint: Endpoint,
    cancel: Cancel,
}

impl HttpClient {
    pub fn new(endpoint: &Endpoint, cancel: Cancel) -> Result<HttpClient, String> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("casefile/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &endpoint.tls.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read ca_cert {}: {e}", path.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| format!("ca_cert {} is not a PEM certificate: {e}", path.display()))?;
            builder = builder.add_root_certificate(cert);
        }
        if endpoint.tls.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let client = builder
            .build()
            .map_err(|e| format!("{}: cannot set up HTTP: {}", endpoint.name, chain(&e)))?;
        Ok(HttpClient {
            client,
            endpoint: endpoint.clone(),
            cancel,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET base/path?params`.
    pub async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<String, FetchError> {
        self.send(Method::GET, path, params, None).await
    }

    /// A request with a JSON body (Elasticsearch).
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        body: &serde_json::Value,
    ) -> Result<String, FetchError> {
        self.send(method, path, params, Some(body.to_string()))
            .await
    }

    /// The full URL of a path, for messages and links (never carries credentials).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.url)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        body: Option<String>,
    ) -> Result<String, FetchError> {
        let mut url = reqwest::Url::parse(&self.url(path))
            .map_err(|e| FetchError::Transport(format!("bad URL {}: {e}", self.url(path))))?;
        if !params.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in params {
                pairs.append_pair(k, v);
            }
        }
        let mut attempt = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Err(FetchError::Cancelled);
            }
            let mut req = self.client.request(method.clone(), url.clone());
            if let Some(t) = &self.endpoint.tenant {
                req = req.header("X-Scope-OrgID", t);
            }
            req = match &self.endpoint.auth {
                Auth::None => req,
                Auth::Bearer(t) => req.bearer_auth(t),
                Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
                Auth::ApiKey(k) => req.header("Authorization", format!("ApiKey {k}")),
            };
            if let Some(b) = &body {
                req = req
                    .header("Content-Type", "application/json")
                    .body(b.clone());
            }
            let what = format!("{method} {path}");
            // A cancel ends the wait for an answer at once, not at the timeout.
            let resp = tokio::select! {
                r = req.send() => r.map_err(|e| FetchError::Transport(format!("{what}: {}", causes(&e))))?,
                () = self.cancelled() => return Err(FetchError::Cancelled),
            };
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // Read in chunks: a cancel is noticed between them, and an answer larger than any
            // page should be is refused instead of filling memory.
            let mut resp = resp;
            let mut body: Vec<u8> = Vec::new();
            loop {
                let chunk = tokio::select! {
                    c = resp.chunk() => c.map_err(|e| {
                        FetchError::Transport(format!("{what}: reading the answer: {}", causes(&e)))
                    })?,
                    () = self.cancelled() => return Err(FetchError::Cancelled),
                };
                let Some(chunk) = chunk else { break };
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(FetchError::Transport(format!(
                        "{what}: the answer is larger than {} MiB",
                        MAX_BODY >> 20
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            let text = String::from_utf8_lossy(&body).into_owned();
            if status.is_success() {
                return Ok(text);
            }
            let busy = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE;
            if busy && attempt < RETRIES {
                let wait = retry_after
                    .unwrap_or(Duration::from_millis(500 << attempt))
                    .min(MAX_BACKOFF);
                attempt += 1;
                self.sleep(wait).await?;
                continue;
            }
            return Err(FetchError::Status {
                code: status.as_u16(),
                body: text,
            });
        }
    }

    /// The same client with its own cancel token, for what must happen even after a cancel
    /// (closing an Elasticsearch point in time), within a short timeout.
    pub fn detached(&self) -> HttpClient {
        HttpClient {
            client: self.client.clone(),
            endpoint: self.endpoint.clone(),
            cancel: Cancel::default(),
        }
    }

    /// Resolves when the cancel token is set.
    async fn cancelled(&self) {
        while !self.cancel.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sleeps, waking early to notice a cancel.
    async fn sleep(&self, total: Duration) -> Result<(), FetchError> {
        let step = Duration::from_millis(50);
        let mut left = total;
        while !left.is_zero() {
            if self.cancel.is_cancelled() {
                return Err(FetchError::Cancelled);
            }
            let now = left.min(step);
            tokio::time::sleep(now).await;
            left -= now;
        }
        Ok(())
    }
}

/// The causes under reqwest's own "error sending request for url (…)", which repeats the URL
/// with its whole query: `client error (Connect): tcp connect error: Connection refused`.
fn causes(e: &reqwest::Error) -> String {
    let full = chain(e);
    if e.is_timeout() {
        return "timed out".to_string();
    }
    let causes = match full.split_once("): ") {
        Some((head, rest))
            if head.starts_with("error sending request") || head.starts_with("error decoding") =>
        {
            rest.to_string()
        }
        _ => full,
    };
    with_tls_hint(causes)
}

/// rustls names an untrusted issuer `UnknownIssuer`; at 3 a.m. the responder needs to know
/// what to do about it.
fn with_tls_hint(causes: String) -> String {
    if causes.contains("UnknownIssuer") {
        format!(
            "{causes} (the server's certificate is not signed by a CA this machine trusts: give \
             its CA with `ca_cert` in the source's config, or LOKI_CA_CERT_PATH / ES_CA_CERT)"
        )
    } else {
        causes
    }
}

/// An error and its causes, outermost first.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    crate::sanitize::line(&out).into_owned()
}
