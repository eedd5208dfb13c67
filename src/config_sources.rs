//! Named sources in the config file, so a responder types `casefile` and gets the usual
//! dashboards' data:
//!
//! ```toml
//! [[sources]]
//! name = "loki-prod"
//! kind = "loki"                      # loki | elasticsearch | prometheus
//! url = "https://loki.example:3100"
//! query = '{namespace="prod"}'
//! tenant = "acme"
//! token_env = "LOKI_TOKEN"           # or token_file, or username + password_env, or api_key_env
//! ca_cert = "/etc/ssl/internal-ca.pem"
//! timeout = "30s"
//!
//! [[sources]]
//! name = "prom-via-grafana"
//! kind = "prometheus"
//! grafana = "https://grafana.example"   # through Grafana's datasource proxy
//! datasource_uid = "P1809F7CD0C75ACF3"
//! token_env = "GRAFANA_TOKEN"            # a service-account token
//! queries = ['rate(container_cpu_usage_seconds_total{namespace="prod"}[5m])']
//! ```
//!
//! Secrets are never written in the file itself: only the name of an environment variable or
//! of a file that holds them, so a config can be shared and secrets never reach a bundle.

use crate::model::parse_duration;
use crate::sources::spec::{Auth, Endpoint, SourceSpec};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    pub grafana: Option<String>,
    pub datasource_uid: Option<String>,
    pub query: Option<String>,
    #[serde(default)]
    pub queries: Vec<String>,
    pub index: Option<String>,
    pub tenant: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub api_key_env: Option<String>,
    pub ca_cert: Option<PathBuf>,
    #[serde(default)]
    pub insecure: bool,
    pub timeout: Option<String>,
}

fn required_env(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Result<String, String> {
    env(var).ok_or_else(|| format!("environment variable {var} is not set"))
}

impl SourceConfig {
    /// The source this entry describes; errors name the field at fault.
    pub fn to_spec(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<SourceSpec, String> {
        let base = match (&self.url, &self.grafana, &self.datasource_uid) {
            (Some(url), None, None) => url.clone(),
            (None, Some(grafana), Some(uid)) => {
                format!(
                    "{}/api/datasources/proxy/uid/{uid}",
                    grafana.trim_end_matches('/')
                )
            }
            (None, Some(_), None) => return Err("`grafana` needs `datasource_uid`".into()),
            (Some(_), Some(_), _) => return Err("give `url` or `grafana`, not both".into()),
            _ => return Err("needs `url` (or `grafana` and `datasource_uid`)".into()),
        };
        let mut endpoint = Endpoint::new(&base);
        endpoint.name = self.name.clone();
        endpoint.tenant = self.tenant.clone();
        endpoint.tls.ca_cert = self.ca_cert.clone();
        endpoint.tls.insecure = self.insecure;
        if let Some(t) = &self.timeout {
            let ns = parse_duration(t)
                .filter(|ns| *ns > 0)
                .ok_or_else(|| format!("timeout `{t}` is not a duration like 30s"))?;
            endpoint.timeout = Duration::from_nanos(ns.max(0) as u64);
        }
        endpoint.auth = if let Some(var) = &self.token_env {
            Auth::Bearer(required_env(env, var)?)
        } else if let Some(file) = &self.token_file {
            let token = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read token_file {}: {e}", file.display()))?;
            Auth::Bearer(token.trim().to_string())
        } else if let Some(var) = &self.api_key_env {
            Auth::ApiKey(required_env(env, var)?)
        } else if let Some(user) = &self.username {
            let var = self
                .password_env
                .as_ref()
                .ok_or("`username` needs `password_env`")?;
            Auth::Basic {
                user: user.clone(),
                password: required_env(env, var)?,
            }
        } else {
            endpoint.auth
        };
        match self.kind.as_str() {
            "loki" => Ok(SourceSpec::Loki {
                endpoint,
                query: self.query.clone().ok_or("a loki source needs `query`")?,
            }),
            "elasticsearch" | "opensearch" => Ok(SourceSpec::Elasticsearch {
                endpoint,
                index: self
                    .index
                    .clone()
                    .ok_or("an elasticsearch source needs `index`")?,
                query: self.query.clone(),
            }),
            "prometheus" => {
                let mut queries = self.queries.clone();
                queries.extend(self.query.clone());
                Ok(SourceSpec::Prometheus { endpoint, queries })
            }
            "alertmanager" => Ok(SourceSpec::Alertmanager { endpoint }),
            "zabbix" => Ok(SourceSpec::Zabbix { endpoint }),
            "grafana" => Ok(SourceSpec::Grafana { endpoint }),
            other => Err(format!(
                "unknown kind `{other}` (loki, elasticsearch, prometheus, alertmanager, zabbix, grafana)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> SourceConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn grafana_proxy_and_secrets_from_the_environment() {
        let env = |k: &str| (k == "GRAFANA_TOKEN").then(|| "glsa_secret".to_string());
        let c = parse("name = \"p\"\nkind = \"prometheus\"\ngrafana = \"https://grafana.example/\"\ndatasource_uid = \"abc\"\ntoken_env = \"GRAFANA_TOKEN\"\nqueries = [\"up\"]\n");
        match c.to_spec(&env).unwrap() {
            SourceSpec::Prometheus { endpoint, queries } => {
                assert_eq!(
                    endpoint.url,
                    "https://grafana.example/api/datasources/proxy/uid/abc"
                );
                assert_eq!(endpoint.auth, Auth::Bearer("glsa_secret".into()));
                assert_eq!(endpoint.name, "p");
                assert_eq!(queries, ["up"]);
            }
            other => panic!("{other:?}"),
        }
        let missing = parse("name = \"l\"\nkind = \"loki\"\nurl = \"http://l\"\nquery = \"{}\"\ntoken_env = \"NOPE\"\n");
        assert_eq!(
            missing.to_spec(&env).unwrap_err(),
            "environment variable NOPE is not set"
        );
        let no_query = parse("name = \"l\"\nkind = \"loki\"\nurl = \"http://l\"\n");
        assert!(no_query
            .to_spec(&env)
            .unwrap_err()
            .contains("needs `query`"));
        let bad_kind = parse("name = \"x\"\nkind = \"splunk\"\nurl = \"http://x\"\n");
        assert!(bad_kind
            .to_spec(&env)
            .unwrap_err()
            .contains("unknown kind `splunk`"));
    }
}
