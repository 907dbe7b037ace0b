//! The verifiers: webpki's path validation, then the draft's checks
//! (readable DNS-IDs, no wildcard, pins) and, on the server, the allowed
//! peer names.

use std::sync::Arc;

use rustls::{
    client::danger::HandshakeSignatureValid,
    crypto::{self, WebPkiSupportedAlgorithms},
    pki_types::{CertificateDer, UnixTime},
    DigitallySignedStruct, RootCertStore, SignatureScheme,
};
#[cfg(feature = "client")]
use rustls::{
    client::danger::{ServerCertVerified, ServerCertVerifier},
    pki_types::ServerName,
    CertificateError,
};
#[cfg(feature = "server")]
use rustls::{
    server::danger::{ClientCertVerified, ClientCertVerifier},
    DistinguishedName,
};

#[cfg(feature = "client")]
use super::cert::srv_ids;
use super::{
    cert::dns_ids,
    problem::{refused, TlsProblemKind as K},
    provider::provider,
    ConfigError, Pin,
};

/// Why a certificate without DNS-IDs is refused: what follows "the peer's
/// certificate".
const NO_DNS_ID: &str = "has no DNS-ID (a common name identifies nobody)";

/// The checks of the draft beyond path validation, shared by both sides:
/// readable DNS-IDs, none with a wildcard, and a pinned fingerprint when
/// pins are given. Returns the DNS-IDs.
fn check_peer(end_entity: &CertificateDer<'_>, pins: &[Pin]) -> Result<Vec<String>, rustls::Error> {
    let names = dns_ids(end_entity).ok_or_else(|| {
        refused(
            K::UnsuitableCertificate,
            "has subject alternative names that cannot be read",
        )
    })?;
    if names.iter().any(|n| n.contains('*')) {
        return Err(refused(
            K::WildcardName,
            "has a wildcard DNS-ID, which IDMEFv2 peers must not use",
        ));
    }
    if !pins.is_empty() && !pins.contains(&Pin::of(end_entity)) {
        return Err(refused(
            K::NotPinned,
            "is not pinned (its SHA-256 fingerprint is not among the pinned ones)",
        ));
    }
    Ok(names)
}

/// The handshake-signature methods of a verifier: rustls asks for the
/// same three in `ClientCertVerifier` and `ServerCertVerifier`, and both
/// of ours answer them alike, with the provider's algorithms (the
/// verifier's `algorithms` field).
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
}

#[cfg(feature = "server")]
/// Which clients a server lets in, beyond a certificate from its CA.
#[derive(Clone, Debug, Default)]
pub(crate) struct PeerPolicy {
    /// Accepted DNS-IDs (lowercase); empty: any.
    pub allowed: Vec<String>,
    /// Accepted certificate fingerprints; empty: any.
    pub pins: Vec<Pin>,
    /// Whether a client may come without a certificate (the server then
    /// authenticates it otherwise).
    pub optional: bool,
}

#[cfg(feature = "server")]
/// Client certificate verification: webpki's path validation, then the
/// draft's checks and the server's policy.
#[derive(Debug)]
pub(crate) struct ClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    policy: PeerPolicy,
    algorithms: WebPkiSupportedAlgorithms,
}

#[cfg(feature = "server")]
impl ClientVerifier {
    pub(crate) fn new(roots: Arc<RootCertStore>, policy: PeerPolicy) -> Result<Self, ConfigError> {
        let inner = rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| ConfigError::new(format!("client CA: {e}")))?;
        Ok(ClientVerifier {
            inner,
            policy,
            algorithms: provider().signature_verification_algorithms,
        })
    }
}

#[cfg(feature = "server")]
impl ClientCertVerifier for ClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let names = check_peer(end_entity, &self.policy.pins)?;
        if names.is_empty() {
            return Err(refused(K::NoDnsId, NO_DNS_ID));
        }
        let allowed = &self.policy.allowed;
        if !allowed.is_empty()
            && !names
                .iter()
                .any(|n| allowed.iter().any(|a| a.eq_ignore_ascii_case(n)))
        {
            return Err(refused(
                K::PeerNotAllowed,
                "names no allowed peer (none of its DNS-IDs is allowed)",
            ));
        }
        Ok(verified)
    }

    handshake_signatures!();

    fn client_auth_mandatory(&self) -> bool {
        !self.policy.optional
    }

    fn offer_client_auth(&self) -> bool {
        true
    }
}

#[cfg(feature = "client")]
/// Server certificate verification: path validation and name matching by
/// webpki (when trust roots are given), then the draft's checks and pins.
#[derive(Debug)]
pub(crate) struct ServerVerifier {
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    roots: Option<Arc<RootCertStore>>,
    pins: Vec<Pin>,
    algorithms: WebPkiSupportedAlgorithms,
    /// The SRV-ID accepted in place of the host's DNS-ID, for a client
    /// that found the host by SRV lookup.
    srv_id: Option<String>,
}

#[cfg(feature = "client")]
impl ServerVerifier {
    /// Trust `roots` (path validation), `pins` (exact certificates), or
    /// both (a pinned certificate that also validates).
    pub(crate) fn new(
        roots: Option<Arc<RootCertStore>>,
        pins: Vec<Pin>,
    ) -> Result<Self, ConfigError> {
        if roots.is_none() && pins.is_empty() {
            return Err(ConfigError::new(
                "no trust for the server: give a CA certificate or a pinned server certificate",
            ));
        }
        let webpki = match &roots {
            Some(roots) => Some(
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots.clone(),
                    provider(),
                )
                .build()
                .map_err(|e| ConfigError::new(format!("CA: {e}")))?,
            ),
            None => None,
        };
        Ok(ServerVerifier {
            webpki,
            roots,
            pins,
            algorithms: provider().signature_verification_algorithms,
            srv_id: None,
        })
    }

    /// Accepts a certificate carrying this SRV-ID (`_idmef.example.net`)
    /// when it does not name the host.
    pub(crate) fn srv_id(mut self, srv_id: Option<String>) -> Self {
        self.srv_id = srv_id;
        self
    }

    /// Whether the certificate carries the SRV-ID this verifier accepts.
    fn has_srv_id(&self, end_entity: &CertificateDer<'_>) -> bool {
        let Some(wanted) = &self.srv_id else {
            return false;
        };
        srv_ids(end_entity).is_some_and(|ids| ids.iter().any(|id| id.eq_ignore_ascii_case(wanted)))
    }
}

/// Whether a verification error is only about the name.
#[cfg(feature = "client")]
fn wrong_name(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

/// Whether a certificate has readable subject alternative names without
/// a single DNS-ID.
#[cfg(feature = "client")]
fn no_dns_id(end_entity: &CertificateDer<'_>) -> bool {
    dns_ids(end_entity).is_some_and(|names| names.is_empty())
}

#[cfg(feature = "client")]
impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match (&self.webpki, &self.roots) {
            (Some(webpki), Some(roots)) => {
                let verified = webpki.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                );
                match verified {
                    Ok(_) => {}
                    // Not the host's name, but maybe the SRV-ID: the path
                    // must still validate.
                    Err(e) if wrong_name(&e) && self.has_srv_id(end_entity) => {
                        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                        rustls::client::verify_server_cert_signed_by_trust_anchor(
                            &parsed,
                            roots,
                            intermediates,
                            now,
                            self.algorithms.all,
                        )?;
                    }
                    // A certificate naming its holder by common name only.
                    Err(e) if wrong_name(&e) && no_dns_id(end_entity) => {
                        return Err(refused(K::NoDnsId, NO_DNS_ID))
                    }
                    Err(e) => return Err(e),
                }
            }
            // Pinned only: the exact certificate is trusted, and it must
            // still name the host.
            _ => {
                let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|e| {
                    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                        Arc::new(e),
                    )))
                })?;
                if cert.verify_is_valid_for_subject_name(server_name).is_err()
                    && !self.has_srv_id(end_entity)
                {
                    if no_dns_id(end_entity) {
                        return Err(refused(K::NoDnsId, NO_DNS_ID));
                    }
                    return Err(rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName,
                    ));
                }
            }
        }
        check_peer(end_entity, &self.pins)?;
        Ok(ServerCertVerified::assertion())
    }

    handshake_signatures!();
}
