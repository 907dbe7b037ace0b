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

//!
//! The module has one room per job: `cert` reads the names out of a DER
//! certificate, `verify` holds the client and server verifiers, `load`
//! turns PEM text into rustls configurations, `provider` states the
//! cryptography they all use, and `problem` tells TLS failures in words
//! ([`describe`], [`TlsProblem`]) for both ends' logs and errors.

use std::{fmt, str::FromStr};

mod cert;
mod load;
mod problem;
mod provider;
mod verify;

pub use problem::{describe, find, TlsProblem, TlsProblemKind};
#[cfg(feature = "server")]
pub(crate) use problem::{handshake_end, HandshakeEnd};

pub(crate) use load::certificates;
#[cfg(feature = "client")]
pub(crate) use load::client_config;
#[cfg(feature = "server")]
pub use load::ServerTls;
#[cfg(feature = "client")]
pub(crate) use load::{private_key, roots};
#[cfg(feature = "client")]
pub(crate) use provider::provider;
#[cfg(feature = "client")]
pub(crate) use verify::ServerVerifier;

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
            dns_ids: cert::dns_ids(certificate_der)?,
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

/// The TLS failure in `error` (itself, or inside I/O errors, whose
/// `source` skips what they wrap), told in words by [`describe`].
#[cfg(feature = "client")]
pub(crate) fn explain(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    find(error).map(|problem| problem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate (DER) naming `names`.
    pub(super) fn cert(names: &[&str]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.self_signed(&key).expect("cert").der().to_vec()
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
