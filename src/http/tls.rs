//! TLS for both ends of the transport: rustls with the ring provider,
//! TLS 1.3 and nothing older, mutual authentication, and the peer checks
//! the transport draft adds to ordinary certificate validation.
//!
//! What a peer certificate must pass, on either side:
//!
//! - full path validation (RFC 5280) to one of the configured trust roots,
//!   unless the only trust given is a list of pinned certificates;
//! - no DNS-ID (a `dNSName` of the subject alternative names) holding a
//!   `*`, even next to exact names: such a certificate is refused and the
//!   connection closed;
//! - identity from DNS-IDs only. The subject's common name is never read,
//!   so a certificate naming its holder only there has no identity: a
//!   server refuses it as a client, and a client finds it does not match
//!   the server's name;
//! - when pins are configured, the SHA-256 of the certificate's DER
//!   encoding must be one of them;
//! - on the server, when allowed peer names are configured, one of the
//!   client's DNS-IDs must be among them.

use std::{fmt, str::FromStr, sync::Arc};

use rustls::{
    client::danger::HandshakeSignatureValid,
    crypto::{self, CryptoProvider, WebPkiSupportedAlgorithms},
    pki_types::{CertificateDer, PrivateKeyDer, UnixTime},
    CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme,
};
#[cfg(feature = "client")]
use rustls::{
    client::danger::{ServerCertVerified, ServerCertVerifier},
    pki_types::ServerName,
};
#[cfg(feature = "server")]
use rustls::{
    server::danger::{ClientCertVerified, ClientCertVerifier},
    DistinguishedName,
};
use rustls_pki_types::pem::PemObject;

/// A TLS set-up that could not be made: unreadable PEM, a key that does not
/// suit its certificate, an empty trust list, a malformed pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl ConfigError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        ConfigError(reason.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The SHA-256 fingerprint of one certificate's DER encoding: an approved
/// peer certificate.
///
/// Parsed from 64 hexadecimal digits, with or without colons between the
/// bytes and in either case, as `openssl x509 -noout -fingerprint -sha256`
/// prints it (a leading `sha256 Fingerprint=` is accepted too). Displayed as
/// lowercase hex without colons.
///
/// ```
/// let pin: idmefv2::http::tls::Pin =
///     "AB:CD:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
///         .parse()?;
/// assert!(pin.to_string().starts_with("abcd0011"));
/// # Ok::<(), idmefv2::http::tls::ConfigError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pin([u8; 32]);

impl Pin {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(certificate_der: &[u8]) -> Pin {
        let digest = ring::digest::digest(&ring::digest::SHA256, certificate_der);
        let mut bytes = [0; 32];
        bytes.copy_from_slice(digest.as_ref());
        Pin(bytes)
    }

    /// The fingerprint of every certificate in a PEM text.
    pub fn of_pem(pem: &[u8]) -> Result<Vec<Pin>, ConfigError> {
        Ok(certificates(pem, "certificate")?
            .iter()
            .map(|c| Pin::of(c))
            .collect())
    }

    /// The 32 bytes of the fingerprint.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for Pin {
    type Err = ConfigError;
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let text = match text.split_once('=') {
            Some((label, rest)) if label.to_ascii_lowercase().contains("fingerprint") => rest,
            _ => text,
        };
        let digits: Vec<u8> = text.bytes().filter(|&b| b != b':').collect();
        let refuse = || {
            ConfigError::new(
                "a pin is the SHA-256 of a certificate's DER encoding: 64 hexadecimal digits, \
                 colons between bytes allowed",
            )
        };
        if digits.len() != 64 {
            return Err(refuse());
        }
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let hex = std::str::from_utf8(pair).map_err(|_| refuse())?;
            *byte = u8::from_str_radix(hex, 16).map_err(|_| refuse())?;
        }
        Ok(Pin(bytes))
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({self})")
    }
}

/// Who is at the other end of a connection, from its verified certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    dns_ids: Vec<String>,
    fingerprint: Pin,
}

impl PeerIdentity {
    /// The identity in `certificate_der`, a certificate that passed
    /// verification.
    #[cfg(feature = "server")]
    pub(crate) fn from_certificate(certificate_der: &[u8]) -> Option<PeerIdentity> {
        Some(PeerIdentity {
            dns_ids: dns_ids(certificate_der)?,
            fingerprint: Pin::of(certificate_der),
        })
    }

    /// The DNS-IDs of the peer's certificate, in the certificate's order.
    pub fn dns_ids(&self) -> &[String] {
        &self.dns_ids
    }

    /// The SHA-256 fingerprint of the peer's certificate.
    pub fn fingerprint(&self) -> Pin {
        self.fingerprint
    }
}

impl fmt::Display for PeerIdentity {
    /// The first DNS-ID, which is what logs show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dns_ids.first().map_or("(no DNS-ID)", String::as_str))
    }
}

/// The process's cryptography: ring, with the TLS 1.3 suites only (the
/// crate is built without rustls' TLS 1.2 code).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(crypto::ring::default_provider())
}

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

/// The `dNSName` entries of a DER certificate's subject alternative names,
/// as written (wildcards included), or `None` when the encoding cannot be
/// read that far.
///
/// webpki validates certificates but only lists the names it could match,
/// which leaves out malformed wildcards such as `a*.example`; the draft
/// wants any `*` refused, so the extension is read here.
pub(crate) fn dns_ids(certificate_der: &[u8]) -> Option<Vec<String>> {
    Some(subject_alt_names(certificate_der)?.dns_ids)
}

/// The names of a certificate that identify its holder.
#[derive(Default)]
struct AltNames {
    /// `dNSName` entries.
    dns_ids: Vec<String>,
    /// `otherName` entries of type `id-on-dnsSRV` (RFC 4985), such as
    /// `_idmef.example.net`.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    srv_ids: Vec<String>,
}

/// The OID of `id-on-dnsSRV`, 1.3.6.1.5.5.7.8.7.
const ID_ON_DNS_SRV: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x07];

/// The SRV-IDs (RFC 4985) of a DER certificate, or `None` when the
/// encoding cannot be read that far.
#[cfg(feature = "client")]
pub(crate) fn srv_ids(certificate_der: &[u8]) -> Option<Vec<String>> {
    Some(subject_alt_names(certificate_der)?.srv_ids)
}

fn subject_alt_names(certificate_der: &[u8]) -> Option<AltNames> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... }
    let (_, certificate, _) = der::expect(certificate_der, der::SEQUENCE)?;
    let (_, mut tbs, _) = der::expect(certificate, der::SEQUENCE)?;
    let mut names = AltNames::default();
    while !tbs.is_empty() {
        let (tag, content, rest) = der::read(tbs)?;
        tbs = rest;
        // extensions [3] EXPLICIT SEQUENCE OF Extension
        if tag != 0xa3 {
            continue;
        }
        let (_, mut extensions, _) = der::expect(content, der::SEQUENCE)?;
        while !extensions.is_empty() {
            let (_, extension, rest) = der::expect(extensions, der::SEQUENCE)?;
            extensions = rest;
            let (_, oid, mut fields) = der::expect(extension, der::OID)?;
            // subjectAltName, 2.5.29.17
            if oid != [0x55, 0x1d, 0x11] {
                continue;
            }
            if fields.first() == Some(&der::BOOLEAN) {
                fields = der::read(fields)?.2;
            }
            let (_, value, _) = der::expect(fields, der::OCTET_STRING)?;
            let (_, mut general_names, _) = der::expect(value, der::SEQUENCE)?;
            while !general_names.is_empty() {
                let (tag, name, rest) = der::read(general_names)?;
                general_names = rest;
                match tag {
                    // dNSName [2] IMPLICIT IA5String
                    0x82 => names.dns_ids.push(String::from_utf8(name.to_vec()).ok()?),
                    // otherName [0] IMPLICIT SEQUENCE { type-id OID,
                    // value [0] EXPLICIT ANY }; for SRV-IDs an IA5String.
                    0xa0 => {
                        let (_, oid, value) = der::expect(name, der::OID)?;
                        if oid == ID_ON_DNS_SRV {
                            let (_, explicit, _) = der::expect(value, 0xa0)?;
                            let (_, text, _) = der::expect(explicit, der::IA5_STRING)?;
                            names.srv_ids.push(String::from_utf8(text.to_vec()).ok()?);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Some(names)
}

/// Just enough DER to walk to the subject alternative names.
mod der {
    pub const BOOLEAN: u8 = 0x01;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const IA5_STRING: u8 = 0x16;
    pub const SEQUENCE: u8 = 0x30;

    /// One tag-length-value: (tag, content, what follows). Single-byte tags
    /// only, which is all a certificate uses.
    pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let (bytes, after) = rest.split_at_checked(count)?;
            rest = after;
            bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
        };
        let (content, after) = rest.split_at_checked(length)?;
        Some((tag, content, after))
    }

    /// [`read`], requiring `tag`.
    pub fn expect(input: &[u8], tag: u8) -> Option<(u8, &[u8], &[u8])> {
        read(input).filter(|(t, _, _)| *t == tag)
    }
}

/// The rustls error in `error` (itself, or inside I/O errors, whose
/// `source` skips what they wrap), told in words.
pub(crate) fn explain(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(match tls {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(reason))) => {
                format!("the peer's certificate is refused: {reason}")
            }
            rustls::Error::InvalidCertificate(problem) => {
                format!("the peer's certificate is refused: {problem:?}")
            }
            rustls::Error::NoCertificatesPresented => {
                "the peer presented no certificate".to_string()
            }
            rustls::Error::AlertReceived(alert) => {
                format!("the peer ended the handshake with the alert {alert:?}")
            }
            other => other.to_string(),
        });
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    explain(inner)
}

/// A certificate refusal carrying our own reason.
fn refused(reason: &str) -> rustls::Error {
    #[derive(Debug)]
    struct Reason(String);
    impl fmt::Display for Reason {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Reason {}
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Reason(
        reason.to_string(),
    )))))
}

/// The checks of the draft beyond path validation, shared by both sides:
/// readable DNS-IDs, none with a wildcard, and a pinned fingerprint when
/// pins are given. Returns the DNS-IDs.
fn check_peer(end_entity: &CertificateDer<'_>, pins: &[Pin]) -> Result<Vec<String>, rustls::Error> {
    let names = dns_ids(end_entity)
        .ok_or_else(|| refused("the certificate's subject alternative names cannot be read"))?;
    if names.iter().any(|n| n.contains('*')) {
        return Err(refused(
            "the certificate has a wildcard DNS-ID, which IDMEFv2 peers must not use",
        ));
    }
    if !pins.is_empty() && !pins.contains(&Pin::of(end_entity)) {
        return Err(refused(
            "the certificate's SHA-256 fingerprint is not among the pinned ones",
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
            return Err(refused(
                "the client certificate has no DNS-ID (a common name identifies nobody)",
            ));
        }
        let allowed = &self.policy.allowed;
        if !allowed.is_empty()
            && !names
                .iter()
                .any(|n| allowed.iter().any(|a| a.eq_ignore_ascii_case(n)))
        {
            return Err(refused(
                "none of the client certificate's DNS-IDs is an allowed peer",
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
                    Err(e) => return Err(e),
                }
            }
            // Pinned only: the exact certificate is trusted, and it must
            // still name the host.
            _ => {
                let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| {
                    rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
                })?;
                if cert.verify_is_valid_for_subject_name(server_name).is_err()
                    && !self.has_srv_id(end_entity)
                {
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
            .map_err(|e| ConfigError::new(format!("server certificate and key: {e}")))?;
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
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| ConfigError::new(format!("client certificate and key: {e}"))),
        None => Ok(builder.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn dns_ids_are_read_as_written_wildcards_included() {
        let der = cert(&["a.example", "*.b.example", "c*.example"]);
        assert_eq!(
            dns_ids(&der),
            Some(vec![
                "a.example".to_string(),
                "*.b.example".to_string(),
                "c*.example".to_string()
            ])
        );
        assert_eq!(dns_ids(&cert(&[])), Some(vec![]));
        // webpki agrees on the names it can match, and misses the malformed
        // wildcard we refuse.
        let parsed = CertificateDer::from(der.clone());
        let webpki = webpki::EndEntityCert::try_from(&parsed).expect("parses");
        let listed: Vec<&str> = webpki.valid_dns_names().collect();
        assert_eq!(listed, ["a.example", "*.b.example"]);
    }

    #[test]
    fn truncated_certificates_give_no_names_and_no_panic() {
        let der = cert(&["a.example"]);
        for end in 0..der.len() {
            let _ = dns_ids(&der[..end]);
        }
        assert_eq!(dns_ids(&der[..der.len() / 2]), None);
    }

    #[test]
    fn pins_parse_with_or_without_colons_and_refuse_other_lengths() {
        let der = cert(&["a.example"]);
        let pin = Pin::of(&der);
        let hex = pin.to_string();
        assert_eq!(hex.len(), 64);
        let colons: Vec<String> = hex
            .as_bytes()
            .chunks(2)
            .map(|p| String::from_utf8_lossy(p).to_uppercase())
            .collect();
        let openssl = format!("sha256 Fingerprint={}", colons.join(":"));
        assert_eq!(openssl.parse::<Pin>(), Ok(pin));
        assert_eq!(hex.parse::<Pin>(), Ok(pin));
        assert!(hex[..62].parse::<Pin>().is_err());
        assert!(format!("{}zz", &hex[..62]).parse::<Pin>().is_err());
    }
}
