//! A TLS server on loopback with certificates made for the test: a CA, and leaf certificates
//! that are valid, expired, for another host, or self-signed. It answers every request with
//! one plain-text 500 naming itself, so a client that got through the handshake shows those
//! words, and one that did not shows the TLS error.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// What the server answers once the handshake is through.
pub const ANSWER: &str = "the TLS handshake held and the request arrived";

/// A test CA and the certificates it signs.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its key, DER.
pub struct Served {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "casefile test CA");
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa { cert, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for `host`, signed by this CA; `expired` puts its validity in 2020.
    pub fn leaf(&self, host: &str, expired: bool) -> Served {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(vec![host.to_string()]).expect("leaf params");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("leaf certificate");
        Served {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// A certificate for `host` that signs itself (no CA will vouch for it).
pub fn self_signed(host: &str) -> Served {
    let key = KeyPair::generate().expect("key");
    let params = CertificateParams::new(vec![host.to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    Served {
        chain: vec![cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// Serves `served` on a loopback port until the test ends; returns the port.
pub fn start(served: Served) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(served.chain, PrivateKeyDer::Pkcs8(served.key))
        .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                // The request's head; a failed handshake ends here.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let response = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ANSWER}",
                    ANSWER.len()
                );
                let _ = tls.write_all(response.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

/// Checks a client against the TLS cases every source must meet: the CA given (through the
/// environment variable `ca_env`) and a certificate for the host gets the request through (the
/// control); a self-signed certificate, an expired one and another host's are refused, each
/// with its reason on the source's error line, in bounded time and with nothing on stdout.
/// `run` runs the client against a URL with an environment.
pub fn check_client(ca_env: &str, run: impl Fn(&str, &[(&str, &str)]) -> super::http_server::Run) {
    let ca = TestCa::new();
    let ca_file =
        std::env::temp_dir().join(format!("casefile-ca-{ca_env}-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).expect("write the CA");
    let ca_path = ca_file.to_str().expect("a UTF-8 temp path");
    let with_ca = vec![(ca_env, ca_path)];
    let cases = [
        (
            "trusted",
            ca.leaf("127.0.0.1", false),
            with_ca.clone(),
            ANSWER,
        ),
        (
            "self-signed",
            self_signed("127.0.0.1"),
            vec![],
            "UnknownIssuer (the server's certificate is not signed by a CA this machine trusts",
        ),
        (
            "expired",
            ca.leaf("127.0.0.1", true),
            with_ca.clone(),
            "certificate expired",
        ),
        (
            "another host's",
            ca.leaf("tls.example.org", false),
            with_ca,
            "certificate not valid for name",
        ),
    ];
    for (what, served, env, words) in cases {
        let port = start(served);
        let run = run(&format!("https://127.0.0.1:{port}"), &env);
        assert_eq!(run.code, Some(3), "{what}: stderr:\n{}", run.stderr);
        assert!(
            run.elapsed < std::time::Duration::from_secs(10),
            "{what}: took {:?}",
            run.elapsed
        );
        let prefix = format!("casefile: 127.0.0.1:{port}: ");
        let line = run
            .stderr
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{what}: no `{prefix}…` line:\n{}", run.stderr));
        assert!(line.contains(words), "{what}: `{words}` is not in: {line}");
        assert!(run.stdout.is_empty(), "{what}");
    }
    let _ = std::fs::remove_file(&ca_file);
}
