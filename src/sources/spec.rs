//! What a live source is: where it lives, how to authenticate, what to ask. Built from the
//! command line, the config file and the environment; credentials are kept out of `Debug`,
//! messages and bundles.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How to authenticate. Values never appear in `Debug` output or error messages.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Bearer(String),
    Basic {
        user: String,
        password: String,
    },
    /// Elasticsearch `Authorization: ApiKey …`.
    ApiKey(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Bearer(_) => "Auth::Bearer(<redacted>)",
            Auth::Basic { .. } => "Auth::Basic(<redacted>)",
            Auth::ApiKey(_) => "Auth::ApiKey(<redacted>)",
        })
    }
}

/// TLS settings: verification is always on unless `insecure` is set explicitly, and then the
/// source is flagged wherever it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    pub ca_cert: Option<PathBuf>,
    pub insecure: bool,
}

/// An HTTP endpoint with its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// A name for messages and the status bar (`loki-prod`, or the host).
    pub name: String,
    /// Base URL, without a trailing slash.
    pub url: String,
    /// Loki / Mimir tenant (`X-Scope-OrgID`).
    pub tenant: Option<String>,
    pub auth: Auth,
    pub tls: Tls,
    pub timeout: Duration,
}

impl Endpoint {
    /// An endpoint for a base URL. Credentials written into the URL (`https://u:p@host`) are
    /// moved into `auth`, so the URL itself can be shown and recorded.
    pub fn new(url: &str) -> Endpoint {
        let url = url.trim().trim_end_matches('/');
        let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
        // Credentials end at the last `@`: a password may hold `/` or `@` unencoded, and it
        // must never end up in the host, the name or a message.
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((userinfo, after)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let auth = Auth::Basic {
                    user: percent_decode(user),
                    password: percent_decode(password),
                };
                (auth, after)
            }
            None => (Auth::None, rest),
        };
        let (host, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        Endpoint {
            name: host.to_string(),
            url: format!("{scheme}://{host}{path}"),
            tenant: None,
            auth,
            tls: Tls::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// `%2F` → `/`; invalid escapes are kept as written.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A source to read, live or from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Prometheus {
        endpoint: Endpoint,
        queries: Vec<String>,
    },
    Loki {
        endpoint: Endpoint,
        query: String,
    },
    Elasticsearch {
        endpoint: Endpoint,
        index: String,
        query: Option<String>,
    },
    /// Alertmanager's alerts (`/api/v2/alerts`).
    Alertmanager {
        endpoint: Endpoint,
    },
    /// Zabbix problems and their recoveries (JSON-RPC `event.get`, `problem.get`).
    Zabbix {
        endpoint: Endpoint,
    },
    /// Grafana annotations (`/api/annotations`).
    Grafana {
        endpoint: Endpoint,
    },
}

impl SourceSpec {
    pub fn endpoint(&self) -> &Endpoint {
        match self {
            SourceSpec::Prometheus { endpoint, .. }
            | SourceSpec::Loki { endpoint, .. }
            | SourceSpec::Elasticsearch { endpoint, .. }
            | SourceSpec::Alertmanager { endpoint }
            | SourceSpec::Zabbix { endpoint }
            | SourceSpec::Grafana { endpoint } => endpoint,
        }
    }

    pub fn endpoint_mut(&mut self) -> &mut Endpoint {
        match self {
            SourceSpec::Prometheus { endpoint, .. }
            | SourceSpec::Loki { endpoint, .. }
            | SourceSpec::Elasticsearch { endpoint, .. }
            | SourceSpec::Alertmanager { endpoint }
            | SourceSpec::Zabbix { endpoint }
            | SourceSpec::Grafana { endpoint } => endpoint,
        }
    }

    /// What is asked, for reports and bundles (never credentials).
    pub fn describe(&self) -> String {
        match self {
            SourceSpec::Prometheus { queries, .. } => queries.join(" ; "),
            SourceSpec::Loki { query, .. } => query.clone(),
            SourceSpec::Elasticsearch { index, query, .. } => match query {
                Some(q) => format!("{index}: {q}"),
                None => index.clone(),
            },
            SourceSpec::Alertmanager { .. } => "/api/v2/alerts".into(),
            SourceSpec::Zabbix { .. } => "event.get, problem.get".into(),
            SourceSpec::Grafana { .. } => "/api/annotations".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_move_into_auth_and_never_show() {
        let e = Endpoint::new("https://user:hunter2@loki.example:3100/base/");
        assert_eq!(e.name, "loki.example:3100");
        assert_eq!(e.url, "https://loki.example:3100/base");
        assert_eq!(
            e.auth,
            Auth::Basic {
                user: "user".into(),
                password: "hunter2".into()
            }
        );
        assert!(!format!("{e:?}").contains("hunter2"));
        let slashed = Endpoint::new("https://admin:s3cr/et@127.0.0.1:1/x");
        assert_eq!(slashed.name, "127.0.0.1:1");
        assert_eq!(slashed.url, "https://127.0.0.1:1/x");
        assert_eq!(
            slashed.auth,
            Auth::Basic {
                user: "admin".into(),
                password: "s3cr/et".into()
            }
        );
        let encoded = Endpoint::new("http://u%40x:p%2Fw@h");
        assert_eq!(
            encoded.auth,
            Auth::Basic {
                user: "u@x".into(),
                password: "p/w".into()
            }
        );
        let plain = Endpoint::new("127.0.0.1:9090");
        assert_eq!(plain.url, "http://127.0.0.1:9090");
        assert_eq!(plain.auth, Auth::None);
    }
}
