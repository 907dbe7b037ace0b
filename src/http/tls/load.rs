//! Loading: PEM text into certificates, keys and trust stores, and those
//! into rustls configurations.

use std::sync::Arc;

use rustls::{
    pki_types::{CertificateDer, PrivateKeyDer},
    RootCertStore,
};
use rustls_pki_types::pem::PemObject;

#[cfg(feature = "client")]
use super::verify::ServerVerifier;
use super::{problem::own_certificate, provider::provider, ConfigError};
#[cfg(feature = "server")]
use super::{
    verify::{ClientVerifier, PeerPolicy},
    Pin,
};

/// Every certificate in a PEM text; `what` names it in errors.
pub(crate) fn certificates(
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let found: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let found = found.map_err(|e| ConfigError::new(format!("{what}: unreadable PEM: {e}")))?;
    if found.is_empty() {
        return Err(ConfigError::new(format!(
            "{what}: no CERTIFICATE block in the PEM text"
        )));
    }
    Ok(found)
}

/// The private key in a PEM text (PKCS #8, PKCS #1 or SEC 1).
pub(crate) fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, ConfigError> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| ConfigError::new(format!("private key: unreadable PEM: {e}")))
}

/// A trust store holding every certificate of a PEM bundle.
pub(crate) fn roots(pem: &[u8], what: &str) -> Result<Arc<RootCertStore>, ConfigError> {
    let mut store = RootCertStore::empty();
    for cert in certificates(pem, what)? {
        store
            .add(cert)
            .map_err(|e| ConfigError::new(format!("{what}: not a usable CA certificate: {e}")))?;
    }
    Ok(Arc::new(store))
}

#[cfg(feature = "server")]
/// A server's TLS set-up: its certificate and key, the CA bundle its
/// clients' certificates must chain to, and optionally the client names or
/// certificates it accepts.
///
/// ```no_run
/// use idmefv2::http::tls::ServerTls;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tls = ServerTls::from_pem(
///     &std::fs::read("server.pem")?,
///     &std::fs::read("server.key")?,
///     &std::fs::read("sensors-ca.pem")?,
/// )?
/// .allow_peer("sensor1.example.org");
/// # let _ = tls; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ServerTls {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    client_ca: Arc<RootCertStore>,
    policy: PeerPolicy,
}

#[cfg(feature = "server")]
impl ServerTls {
    /// The server's certificate chain (leaf first) and private key, and the
    /// client CA bundle, all as PEM text.
    pub fn from_pem(
        certificate_pem: &[u8],
        key_pem: &[u8],
        client_ca_pem: &[u8],
    ) -> Result<ServerTls, ConfigError> {
        let tls = ServerTls {
            chain: certificates(certificate_pem, "server certificate")?,
            key: Arc::new(private_key(key_pem)?),
            client_ca: roots(client_ca_pem, "client CA")?,
            policy: PeerPolicy::default(),
        };
        tls.config()?;
        Ok(tls)
    }

    /// Accepts only clients with this DNS-ID (letter case ignored); may be
    /// given several times. Without it, any client certificate from the
    /// client CA is accepted.
    #[must_use]
    pub fn allow_peer(mut self, dns_name: impl Into<String>) -> Self {
        self.policy.allowed.push(dns_name.into());
        self
    }

    /// Accepts only clients whose certificate has this fingerprint; may be
    /// given several times. Combined with [`allow_peer`](Self::allow_peer),
    /// both must hold.
    #[must_use]
    pub fn pin(mut self, pin: Pin) -> Self {
        self.policy.pins.push(pin);
        self
    }

    /// Lets clients without a certificate finish the handshake; a client
    /// that presents one is still verified as above. Only for a server
    /// that authenticates such clients otherwise:
    /// [`Server::basic_auth`](crate::http::server::Server::basic_auth),
    /// without which the server refuses to start.
    #[must_use]
    pub fn client_certificate_optional(mut self) -> Self {
        self.policy.optional = true;
        self
    }

    /// Whether clients may come without a certificate.
    pub(crate) fn is_client_certificate_optional(&self) -> bool {
        self.policy.optional
    }

    /// The rustls configuration: TLS 1.3 only, client certificates
    /// required (unless optional), ALPN `h2` then `http/1.1`.
    pub(crate) fn config(&self) -> Result<Arc<rustls::ServerConfig>, ConfigError> {
        let verifier = ClientVerifier::new(self.client_ca.clone(), self.policy.clone())?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| ConfigError::new(format!("TLS versions: {e}")))?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| {
                ConfigError::new(own_certificate("server certificate and key", &e).to_string())
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(feature = "client")]
/// A client's TLS configuration: TLS 1.3 only, the given identity, and the
/// server checks of [`ServerVerifier`]. ALPN is set by the connector.
pub(crate) fn client_config(
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    verifier: ServerVerifier,
) -> Result<rustls::ClientConfig, ConfigError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| ConfigError::new(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            ConfigError::new(own_certificate("client certificate and key", &e).to_string())
        }),
        None => Ok(builder.with_no_client_auth()),
    }
}
