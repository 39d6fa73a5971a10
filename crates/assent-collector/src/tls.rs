//! TLS to PostgreSQL, configured the way libpq is: `sslmode` and `sslrootcert` in the URL.
//!
//! | `sslmode` | Encrypted | Certificate checked |
//! |---|---|---|
//! | `disable` | no | no |
//! | `allow`, `prefer` (the default) | when the server offers TLS | no |
//! | `require` | yes, or no connection | only with `sslrootcert=<file>` (then as `verify-ca`) |
//! | `verify-ca` | yes | chain to the CA in `sslrootcert=<file>` (required) |
//! | `verify-full` | yes | chain to a trusted root, and the host name in the URL |
//!
//! The trusted roots are the certificates in the PEM file `sslrootcert` names, or, without it (or
//! with `sslrootcert=system`, which implies `verify-full` as in libpq 16), the Mozilla root set that
//! `webpki-roots` ships. tokio-postgres knows
//! only `disable`/`prefer`/`require` and no `sslrootcert`, so the URL is rewritten for it.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Rejection;

/// `%XX` escapes in a URL query value, as tokio-postgres reads them.
fn decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()
}

/// How far the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encryption only, as libpq's `prefer` and `require`.
    None,
    /// The chain, not the name.
    Chain,
    /// The chain and the host name.
    Full,
}

/// The URL for tokio-postgres, and the TLS connector for it.
pub(crate) fn connector(url: &str) -> Result<(String, MakeRustlsConnect), Rejection> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut mode, mut root) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("sslmode", value) => mode = Some(decode(value)),
            ("sslrootcert", value) => root = Some(decode(value)),
            _ => kept.push(pair.to_string()),
        }
    }
    let own_ca = root.as_deref().is_some_and(|r| r != "system");
    let (wire, check) = match (mode.as_deref(), root.as_deref()) {
        // As libpq 16: the public roots mean the name must be checked too, so they imply verify-full.
        (None | Some("verify-full"), Some("system")) => (Some("require"), Check::Full),
        (Some(mode), Some("system")) => {
            return Err(Rejection::Storage(format!(
                "sslrootcert=system needs sslmode=verify-full (got `{mode}`): any public certificate would pass a weaker check"
            )))
        }
        (None, _) => (None, Check::None),
        (Some("disable"), _) => (Some("disable"), Check::None),
        (Some("allow" | "prefer"), _) => (Some("prefer"), Check::None),
        (Some("require"), None) => (Some("require"), Check::None),
        // Checking only the chain is worth something with your own CA, nothing with the public roots.
        (Some("require" | "verify-ca"), _) if own_ca => (Some("require"), Check::Chain),
        (Some("verify-ca"), _) => {
            return Err(Rejection::Storage(
                "sslmode=verify-ca needs sslrootcert=<your CA file>: against the public roots any public certificate would pass; or use verify-full".into(),
            ))
        }
        (Some("verify-full"), _) => (Some("require"), Check::Full),
        (Some(other), _) => {
            return Err(Rejection::Storage(format!(
                "sslmode `{other}` in --database-url: use disable, allow, prefer, require, verify-ca or verify-full"
            )))
        }
    };
    if let Some(wire) = wire {
        kept.push(format!("sslmode={wire}"));
    }
    let rewritten = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };

    let mut roots = RootCertStore::empty();
    match root.as_deref() {
        None | Some("system") => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Rejection::Storage(format!("sslrootcert `{path}`: cannot read PEM certificates: {e}")))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Rejection::Storage(format!("sslrootcert `{path}`: no usable CA certificate in it")));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Rejection::Storage(format!("TLS roots for PostgreSQL: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Rejection::Storage(format!("TLS for PostgreSQL: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { check, webpki, provider }))
        .with_no_client_auth();
    Ok((rewritten, MakeRustlsConnect::new(config)))
}

/// Checks the certificate as far as `check` says; the handshake's own signatures always.
#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.check == Check::None {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            // webpki checks the name only after the chain: a name error means the chain is trusted.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_tokio_postgres_sees() {
        let wire = |url: &str| connector(url).map(|(u, _)| u).map_err(|e| e.to_string());
        // Regression guard: tokio-postgres refuses verify-ca/verify-full and any sslrootcert.
        assert_eq!(wire("postgres://u@h/db").unwrap(), "postgres://u@h/db");
        assert_eq!(wire("postgres://u@h/db?sslmode=verify-full").unwrap(), "postgres://u@h/db?sslmode=require");
        assert_eq!(
            wire("postgres://u@h/db?sslmode=allow&application_name=x").unwrap(),
            "postgres://u@h/db?application_name=x&sslmode=prefer"
        );
        // The public roots (sslrootcert=system) come only with the name check (verify-full), and verify-ca
        // only with a CA file of one's own: the public roots without a name check would accept any public
        // certificate.
        assert_eq!(wire("postgres://u@h/db?sslrootcert=system").unwrap(), "postgres://u@h/db?sslmode=require");
        let weak = wire("postgres://u@h/db?sslrootcert=system&sslmode=verify-ca").unwrap_err();
        assert!(weak.contains("sslrootcert=system needs sslmode=verify-full"), "{weak}");
        let weak = wire("postgres://u@h/db?sslmode=verify-ca").unwrap_err();
        assert!(weak.contains("verify-ca needs sslrootcert=<your CA file>"), "{weak}");
        let bad = wire("postgres://u@h/db?sslmode=strict").unwrap_err();
        assert!(bad.contains("sslmode `strict`") && bad.contains("verify-full"), "{bad}");
        let missing = wire("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fnonexistent%2Fca.pem").unwrap_err();
        assert!(missing.contains("sslrootcert `/nonexistent/ca.pem`"), "{missing}");
    }
}
