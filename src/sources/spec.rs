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
        let (host_part, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (auth, host) = match host_part.rsplit_once('@') {
            Some((userinfo, host)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (
                    Auth::Basic {
                        user: user.to_string(),
                        password: password.to_string(),
                    },
                    host,
                )
            }
            None => (Auth::None, host_part),
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
}

impl SourceSpec {
    pub fn endpoint(&self) -> &Endpoint {
        match self {
            SourceSpec::Prometheus { endpoint, .. }
            | SourceSpec::Loki { endpoint, .. }
            | SourceSpec::Elasticsearch { endpoint, .. } => endpoint,
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
        let plain = Endpoint::new("127.0.0.1:9090");
        assert_eq!(plain.url, "http://127.0.0.1:9090");
        assert_eq!(plain.auth, Auth::None);
    }
}
