//! Named sources from the config file: used when the command line names none, with errors
//! that point at the entry, and secrets that come only from the environment.

mod support;

use std::process::Command;

fn run(config: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!(
        "casefile-cfgsrc-{}-{}",
        std::process::id(),
        config.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["query", "--count", "--config"]).arg(&path);
    cmd.env("XDG_CONFIG_HOME", &dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_sources_run_when_the_command_line_names_none() {
    // Nothing listens on port 1: the named source fails with its own name and the cause.
    let (code, stdout, stderr) = run(
        "[[sources]]\nname = \"prom-local\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:1\"\nqueries = [\"up\"]\n",
        &[],
    );
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stdout.trim(), "0");
    assert!(
        stderr.contains("prom-local") && stderr.contains("Connection refused"),
        "{stderr}"
    );
}

#[test]
fn a_bad_entry_names_its_line_and_a_secret_never_shows() {
    let (code, _, stderr) = run(
        "theme = \"dark\"\n\n[[sources]]\nname = \"ok\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:1\"\n\n[[sources]]\nname = \"loki-bad\"\nkind = \"loki\"\nurl = \"http://127.0.0.1:1\"\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("config.toml:8: source `loki-bad`: a loki source needs `query`"),
        "{stderr}"
    );

    let (_, _, stderr) = run(
        "[[sources]]\nname = \"loki\"\nkind = \"loki\"\nurl = \"http://127.0.0.1:1\"\nquery = \"{job=\\\"sshd\\\"}\"\ntoken_env = \"MY_LOKI_TOKEN\"\n",
        &[("MY_LOKI_TOKEN", "s3cr3t-t0ken")],
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-t0ken"), "{stderr}");

    let (code, _, stderr) = run(
        "[[sources]]\nname = \"loki\"\nkind = \"loki\"\nurl = \"http://127.0.0.1:1\"\nquery = \"{}\"\ntoken_env = \"UNSET_TOKEN_VAR\"\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("environment variable UNSET_TOKEN_VAR is not set"),
        "{stderr}"
    );
}

#[test]
fn a_prometheus_behind_tls_is_reached_with_its_ca_and_refused_without() {
    use support::tls_server::{self, TestCa, ANSWER};
    let ca = TestCa::new();
    let ca_file = std::env::temp_dir().join(format!("casefile-prom-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let port = tls_server::start(ca.leaf("127.0.0.1", false));
    let source = |ca_cert: Option<&std::path::Path>| {
        let mut s = format!(
            "[[sources]]\nname = \"prom-tls\"\nkind = \"prometheus\"\nurl = \"https://127.0.0.1:{port}\"\nqueries = [\"up\"]\n"
        );
        if let Some(p) = ca_cert {
            s.push_str(&format!("ca_cert = \"{}\"\n", p.display()));
        }
        s
    };
    // With its CA: the handshake holds and the server's own answer is what fails.
    let (code, _, stderr) = run(&source(Some(&ca_file)), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("prom-tls") && stderr.contains(ANSWER),
        "{stderr}"
    );
    // Without it: refused, and the reason says what to do.
    let (code, _, stderr) = run(&source(None), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("UnknownIssuer") && stderr.contains("ca_cert"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&ca_file);
}
