//! TLS for websockets (Loki's tail) with the same settings as HTTP: the system's roots, an
//! extra `ca_cert`, and an explicit `insecure` that accepts any certificate.

use super::spec::Tls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;
use tokio_tungstenite::Connector;

/// `None` when the defaults apply (system roots, verification on).
pub fn connector(tls: &Tls) -> Result<Option<Connector>, String> {
    if tls.ca_cert.is_none() && !tls.insecure {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = if tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = &tls.ca_cert {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read ca_cert {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    format!("ca_cert {} is not a PEM certificate: {e}", path.display())
                })?;
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_cert {}: {e}", path.display()))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Some(Connector::Rustls(Arc::new(config))))
}

/// `insecure = true`: any certificate is accepted (signatures are still checked, so the
/// connection is encrypted, just not authenticated). Shown as insecure wherever it is used.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_connector_and_a_bad_ca_file_is_a_clear_error() {
        assert!(connector(&Tls::default()).unwrap().is_none());
        assert!(connector(&Tls {
            ca_cert: None,
            insecure: true
        })
        .unwrap()
        .is_some());
        let missing = Tls {
            ca_cert: Some("/nonexistent/ca.pem".into()),
            insecure: false,
        };
        let err = connector(&missing).err().unwrap();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
