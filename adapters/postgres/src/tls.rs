//! TLS for PostgreSQL connections: rustls (ring), with the certificate
//! checks each [`TlsMode`] asks for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use persist_queue_core::records::server::TlsMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::PgError;

/// What a connection's TLS is made of: the mode, and the files it reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsFiles {
    /// Roots to trust instead of the bundled Mozilla set (`sslrootcert`).
    pub(crate) ca: Option<PathBuf>,
    /// A client certificate chain and its key (`sslcert`, `sslkey`).
    pub(crate) client: Option<(PathBuf, PathBuf)>,
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> PgError {
    PgError::Tls(format!("{}: {reason}", path.display()))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PgError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(path, e))?;
    if certs.is_empty() {
        return Err(unreadable(path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

/// The rustls client configuration for `mode`, reading the files now so
/// that a missing or malformed one is an error of the setup, not of every
/// connection attempt. `None` for [`TlsMode::Disable`].
pub(crate) fn client_config(mode: TlsMode, files: &TlsFiles) -> Result<Option<Arc<ClientConfig>>, PgError> {
    if mode == TlsMode::Disable {
        return Ok(None);
    }
    // ring, as the MySQL client's rustls build uses: no C toolchain (aws-lc)
    // needed. rustls marks it deprecated for lacking post-quantum key
    // exchange, which PostgreSQL servers do not offer yet either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    match &files.ca {
        Some(path) => {
            for cert in certificates(path)? {
                roots.add(cert).map_err(|e| unreadable(path, e))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .map_err(|e| PgError::Tls(e.to_string()))?;
    let verifier = Arc::new(Checks { mode, webpki, algorithms: provider.signature_verification_algorithms });
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &files.client {
        Some((cert, key)) => {
            let chain = certificates(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| unreadable(key, e))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| PgError::Tls(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Some(Arc::new(config)))
}

/// The certificate checks of a mode: none (`prefer`, `require`: the
/// handshake's signatures are still verified), the chain (`verify-ca`),
/// or the chain and the host name (`verify-full`).
#[derive(Debug)]
struct Checks {
    mode: TlsMode,
    webpki: Arc<WebPkiServerVerifier>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Checks {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.mode {
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => Ok(ServerCertVerified::assertion()),
            TlsMode::VerifyFull => {
                self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            TlsMode::VerifyCa => {
                match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                    Err(rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                    )) => Ok(ServerCertVerified::assertion()),
                    other => other,
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// What rustls said, if `e` is a failed TLS handshake (a certificate
/// refused, a protocol the server does not speak): the same attempt would
/// fail again, so it is never retried. rustls reports it inside an I/O
/// error.
pub(crate) fn handshake_failure(e: &postgres::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
            && tls.is::<rustls::Error>()
        {
            return Some(tls.to_string());
        }
        cause = err.source();
    }
    None
}
