//! Loki and Prometheus reached through Grafana's datasource proxy with a service-account
//! token, as named sources in the config file: every request goes under
//! /api/datasources/proxy/uid/UID/ with the token, and the answers are read as usual.

use std::process::Command;

mod support;
use support::http_server::{Response, Server};

const PROM_MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"api-7d9f"},"values":[[1795176000,"1.5"],[1795176060,"1.9"]]}]}}"#;
const LOKI_STREAMS: &str = r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"sshd"},"values":[["1795176000000000000","Nov 20 12:00:00 bastion-1 sshd[1]: Accepted password for mallory from 203.0.113.45 port 1 ssh2"]]}]}}"#;

#[test]
fn loki_and_prometheus_through_the_grafana_proxy() {
    let grafana = Server::start(|req| {
        let ok = req.header("Authorization") == Some("Bearer glsa_token");
        match req.path.as_str() {
            _ if !ok => Response::json(401, r#"{"message":"invalid API key"}"#),
            "/api/datasources/proxy/uid/prom-uid/api/v1/query_range" => {
                Response::json(200, PROM_MATRIX)
            }
            "/api/datasources/proxy/uid/loki-uid/loki/api/v1/query_range" => {
                Response::json(200, LOKI_STREAMS)
            }
            p if p.starts_with("/api/datasources/proxy/uid/") => Response::json(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            ),
            _ => Response::json(404, r#"{"message":"Not found"}"#),
        }
    });
    let dir = std::env::temp_dir().join(format!("casefile-grafana-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\ngrafana = \"{url}\"\ndatasource_uid = \"prom-uid\"\ntoken_env = \"GRAFANA_SA_TOKEN\"\nqueries = [\"up\"]\n\n\
             [[sources]]\nname = \"loki\"\nkind = \"loki\"\ngrafana = \"{url}\"\ndatasource_uid = \"loki-uid\"\ntoken_env = \"GRAFANA_SA_TOKEN\"\nquery = '{{job=\"sshd\"}}'\n",
            url = grafana.url()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["query", "--config"])
        .arg(&config)
        .args([
            "--from",
            "2026-11-19T00:00:00Z",
            "--to",
            "2026-11-21T00:00:00Z",
        ])
        .env("GRAFANA_SA_TOKEN", "glsa_token")
        .env("XDG_CONFIG_HOME", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.iter().filter(|v| v["kind"] == "metric").count(), 2);
    let login = lines
        .iter()
        .find(|v| v["source"] == "loki")
        .expect("the Loki line");
    assert_eq!(login["entities"]["user"], serde_json::json!(["mallory"]));
    assert_eq!(login["source_name"], "loki");
    // Every request went through the proxy, with the token.
    let requests = grafana.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.path.starts_with("/api/datasources/proxy/uid/")),
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert!(requests
        .iter()
        .all(|r| r.header("Authorization") == Some("Bearer glsa_token")));
    assert!(!stderr.contains("glsa_token") && !stdout.contains("glsa_token"));

    // A wrong token: Grafana's own words, exit 3.
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["query", "--config"])
        .arg(&config)
        .args([
            "--from",
            "2026-11-19T00:00:00Z",
            "--to",
            "2026-11-21T00:00:00Z",
        ])
        .env("GRAFANA_SA_TOKEN", "wrong")
        .env("XDG_CONFIG_HOME", &dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("HTTP 401") && stderr.contains("invalid API key"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
