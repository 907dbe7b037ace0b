//! TLS failures told in words: what a handshake's error means for an
//! operator, on either end, and for our own certificate at set-up.
//!
//! Both ends of the transport and the library's errors take their words
//! from [`describe`], so a receiver's log and a sender's error say the same
//! thing about the same failure.

use std::{error::Error as StdError, fmt, io, sync::Arc};

use rustls::{AlertDescription, CertificateError, InconsistentKeys, OtherError, PeerIncompatible};

/// What kind of TLS failure a [`TlsProblem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsProblemKind {
    /// The peer offered or chose a TLS version older than 1.3.
    ProtocolVersion,
    /// The peer presented no certificate, or said it wanted ours and got
    /// none.
    NoCertificate,
    /// The peer's certificate does not chain to a trusted CA, or its
    /// signature does not verify.
    UntrustedIssuer,
    /// The peer's certificate has a DNS-ID holding a `*`.
    WildcardName,
    /// The peer's certificate does not name the host we connected to.
    NameMismatch,
    /// The peer's certificate is past its end of validity.
    Expired,
    /// The peer's certificate is not valid yet.
    NotYetValid,
    /// The peer's certificate names its holder only by a common name (no
    /// DNS-ID), which identifies nobody here.
    NoDnsId,
    /// The peer's certificate is not among the pinned ones.
    NotPinned,
    /// None of the peer's DNS-IDs is an allowed peer.
    PeerNotAllowed,
    /// The peer's certificate cannot be used otherwise (an X.509 v1
    /// certificate, an unreadable encoding, a wrong key usage, …).
    UnsuitableCertificate,
    /// Our own certificate or key cannot be used.
    OwnCertificate,
    /// The peer refused our certificate (it ended the handshake with a
    /// certificate alert).
    RefusedByPeer,
    /// Any other TLS failure.
    Other,
}

/// A TLS failure in words, with its [kind](TlsProblemKind).
///
/// The words never hold Rust debug output, and say "our certificate" for
/// the local end's and "the peer's certificate" for the other end's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsProblem {
    kind: TlsProblemKind,
    words: String,
}

impl TlsProblem {
    fn new(kind: TlsProblemKind, words: impl Into<String>) -> TlsProblem {
        TlsProblem {
            kind,
            words: words.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TlsProblemKind {
        self.kind
    }
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words)
    }
}

impl StdError for TlsProblem {}

/// What a rustls error from a handshake means, in words.
///
/// ```
/// use idmefv2::http::tls::{describe, TlsProblemKind};
/// use rustls::{Error, PeerIncompatible};
///
/// let problem = describe(&Error::PeerIncompatible(
///     PeerIncompatible::SupportedVersionsExtensionRequired,
/// ));
/// assert_eq!(problem.kind(), TlsProblemKind::ProtocolVersion);
/// assert_eq!(problem.to_string(), "TLS 1.2 offered; TLS 1.3 is required");
/// ```
pub fn describe(error: &rustls::Error) -> TlsProblem {
    use TlsProblemKind as K;
    match error {
        rustls::Error::PeerIncompatible(incompatible) => match incompatible {
            PeerIncompatible::SupportedVersionsExtensionRequired => {
                TlsProblem::new(K::ProtocolVersion, "TLS 1.2 offered; TLS 1.3 is required")
            }
            PeerIncompatible::Tls12NotOffered | PeerIncompatible::Tls12NotOfferedOrEnabled => {
                TlsProblem::new(
                    K::ProtocolVersion,
                    "a TLS version older than 1.2 offered; TLS 1.3 is required",
                )
            }
            PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig => TlsProblem::new(
                K::ProtocolVersion,
                "the peer chose TLS 1.2; TLS 1.3 is required",
            ),
            PeerIncompatible::ServerDoesNotSupportTls12Or13 => TlsProblem::new(
                K::ProtocolVersion,
                "the peer chose a TLS version older than 1.2; TLS 1.3 is required",
            ),
            _ => TlsProblem::new(
                K::Other,
                format!("the peer's TLS offer has nothing in common with ours ({error})"),
            ),
        },
        rustls::Error::NoCertificatesPresented => TlsProblem::new(
            K::NoCertificate,
            "the peer presented no certificate; a certificate is required",
        ),
        rustls::Error::InvalidCertificate(problem) => certificate("the peer's", problem),
        rustls::Error::AlertReceived(alert) => alert_received(*alert),
        rustls::Error::InconsistentKeys(_) => own(error),
        other => TlsProblem::new(K::Other, other.to_string()),
    }
}

/// The TLS failure in `error` or in its chain of sources, told in words;
/// `None` when there is none. I/O errors are looked into, since their
/// `source` skips what they wrap.
pub fn find(error: &(dyn StdError + 'static)) -> Option<TlsProblem> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
        }
        if let Some(problem) = error.downcast_ref::<TlsProblem>() {
            return Some(problem.clone());
        }
        if let Some(inner) = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            if let Some(found) = find(inner) {
                return Some(found);
            }
        }
        next = error.source();
    }
    None
}

/// How a server-side handshake ended without a connection.
#[cfg(feature = "server")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HandshakeEnd {
    /// The client went away (closed or reset the connection) without a
    /// TLS error on either side: an ordinary hang-up, not a refusal.
    HungUp,
    /// The handshake failed for this reason.
    Failed(TlsProblem),
}

/// Sorts the error of a server's TLS accept into a hang-up and a failure.
///
/// A client that refuses our certificate says so with an alert (a TLS
/// error); one that closes or resets the connection with nothing said
/// has simply left: a sender whose process ended, a connection opened
/// ahead of need by a pool, a port probe.
#[cfg(feature = "server")]
pub(crate) fn handshake_end(error: &io::Error) -> HandshakeEnd {
    if let Some(problem) = find(error) {
        return HandshakeEnd::Failed(problem);
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => HandshakeEnd::HungUp,
        _ => HandshakeEnd::Failed(TlsProblem::new(TlsProblemKind::Other, error.to_string())),
    }
}

/// Our own certificate and key refused at set-up, in words; `what` names
/// them (`client certificate and key`).
pub(crate) fn own_certificate(what: &str, error: &rustls::Error) -> TlsProblem {
    let problem = own(error);
    TlsProblem::new(problem.kind, format!("{what}: {problem}"))
}

fn own(error: &rustls::Error) -> TlsProblem {
    let words = match error {
        rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
            "our private key does not belong to our certificate".to_string()
        }
        rustls::Error::InconsistentKeys(_) => {
            "our private key cannot be checked against our certificate".to_string()
        }
        rustls::Error::InvalidCertificate(problem) => {
            return TlsProblem::new(
                TlsProblemKind::OwnCertificate,
                certificate("our", problem).words,
            )
        }
        other => format!("our certificate or key cannot be used: {other}"),
    };
    TlsProblem::new(TlsProblemKind::OwnCertificate, words)
}

/// A certificate problem; `whose` is `the peer's` or `our`.
fn certificate(whose: &str, problem: &CertificateError) -> TlsProblem {
    use TlsProblemKind as K;
    let (kind, words) = match problem {
        CertificateError::UnknownIssuer => (
            K::UntrustedIssuer,
            format!("{whose} certificate is not issued by a trusted CA"),
        ),
        CertificateError::BadSignature => (
            K::UntrustedIssuer,
            format!("{whose} certificate's signature does not verify with its issuer's key"),
        ),
        CertificateError::Expired => (K::Expired, format!("{whose} certificate has expired")),
        CertificateError::ExpiredContext { not_after, .. } => (
            K::Expired,
            format!("{whose} certificate expired at {}", when(*not_after)),
        ),
        CertificateError::NotValidYet => (
            K::NotYetValid,
            format!("{whose} certificate is not valid yet"),
        ),
        CertificateError::NotValidYetContext { not_before, .. } => (
            K::NotYetValid,
            format!(
                "{whose} certificate is not valid before {}",
                when(*not_before)
            ),
        ),
        CertificateError::NotValidForName => (
            K::NameMismatch,
            format!("{whose} certificate does not name the host connected to"),
        ),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => (
            K::NameMismatch,
            if presented.is_empty() {
                format!(
                    "{whose} certificate does not name {} (it names no host)",
                    expected.to_str()
                )
            } else {
                format!(
                    "{whose} certificate does not name {} (it names {})",
                    expected.to_str(),
                    presented
                        .iter()
                        .map(|name| unwrap_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
            K::UnsuitableCertificate,
            format!("{whose} certificate is not made for this use (extended key usage)"),
        ),
        CertificateError::Revoked => (
            K::UntrustedIssuer,
            format!("{whose} certificate is revoked"),
        ),
        CertificateError::BadEncoding => (
            K::UnsuitableCertificate,
            format!("{whose} certificate is not a well-formed X.509 certificate"),
        ),
        CertificateError::Other(OtherError(inner)) => return other(whose, inner),
        _ => (
            K::UnsuitableCertificate,
            format!("{whose} certificate is refused: {problem}"),
        ),
    };
    TlsProblem::new(kind, words)
}

/// A certificate problem rustls passes on as is: one of ours, or one of
/// webpki's that rustls has no variant for.
fn other(whose: &str, inner: &Arc<dyn StdError + Send + Sync>) -> TlsProblem {
    if let Some(refusal) = inner.downcast_ref::<Refusal>() {
        return TlsProblem::new(
            refusal.kind,
            format!("{whose} certificate {}", refusal.words),
        );
    }
    let words = match inner.downcast_ref::<webpki::Error>() {
        Some(webpki::Error::UnsupportedCertVersion) => {
            "is an X.509 version 1 certificate; version 3 (with subject alternative names) \
             is required"
        }
        Some(webpki::Error::CaUsedAsEndEntity) => "is a CA certificate, not a leaf certificate",
        Some(webpki::Error::EndEntityUsedAsCa) => "is a leaf certificate used as a CA",
        Some(webpki::Error::RequiredEkuNotFoundContext(_)) => {
            "is not made for this use (extended key usage)"
        }
        Some(webpki::Error::UnsupportedCriticalExtension) => {
            "has a critical extension that cannot be read"
        }
        Some(webpki::Error::MalformedDnsIdentifier) => "has a malformed DNS-ID",
        Some(webpki::Error::NameConstraintViolation) => "breaks its CA's name constraints",
        Some(
            webpki::Error::MaximumPathDepthExceeded | webpki::Error::PathLenConstraintViolated,
        ) => "is too far from its trusted CA",
        _ => "cannot be used (it does not pass certificate validation)",
    };
    TlsProblem::new(
        TlsProblemKind::UnsuitableCertificate,
        format!("{whose} certificate {words}"),
    )
}

/// A name as webpki presents it (`DnsName("a.example")`, the debug form
/// of its name types), as the certificate writes it (`a.example`).
fn unwrap_name(presented: &str) -> &str {
    match presented.split_once('(') {
        Some((_, inner)) if presented.ends_with(')') => inner[..inner.len() - 1].trim_matches('"'),
        _ => presented,
    }
}

/// An alert from the peer, in words.
fn alert_received(alert: AlertDescription) -> TlsProblem {
    use TlsProblemKind as K;
    let name = alert_name(alert);
    match alert {
        AlertDescription::CertificateRequired => TlsProblem::new(
            K::NoCertificate,
            format!("the peer requires a certificate and got none from us (alert {name})"),
        ),
        AlertDescription::BadCertificate
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateRevoked
        | AlertDescription::CertificateExpired
        | AlertDescription::CertificateUnknown
        | AlertDescription::UnknownCA
        | AlertDescription::AccessDenied => TlsProblem::new(
            K::RefusedByPeer,
            format!("the peer refused our certificate (alert {name})"),
        ),
        AlertDescription::ProtocolVersion => TlsProblem::new(
            K::ProtocolVersion,
            format!("the peer does not accept TLS 1.3 (alert {name})"),
        ),
        _ => TlsProblem::new(
            K::Other,
            format!("the peer ended the handshake (alert {name})"),
        ),
    }
}

/// An alert's name as RFC 8446 spells it (`bad_certificate`).
fn alert_name(alert: AlertDescription) -> String {
    let mut name = String::new();
    // rustls names its alerts after the RFC's, in camel case.
    for c in format!("{alert:?}").chars() {
        if c.is_ascii_uppercase() && !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name.replace("unknown_c_a", "unknown_ca")
}

/// A certificate time as an RFC 3339 UTC timestamp.
fn when(time: rustls::pki_types::UnixTime) -> String {
    let seconds = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{seconds} seconds after 1970"))
}

/// One of the draft's refusals of a peer certificate, carried through
/// rustls as a certificate error of its own.
#[derive(Debug)]
struct Refusal {
    kind: TlsProblemKind,
    /// What follows "the peer's certificate".
    words: &'static str,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the certificate {}", self.words)
    }
}

impl StdError for Refusal {}

/// A refusal of the peer's certificate by one of the draft's checks; the
/// words follow "the peer's certificate".
pub(crate) fn refused(kind: TlsProblemKind, words: &'static str) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refusal {
        kind,
        words,
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_lose_their_type_wrapping() {
        assert_eq!(unwrap_name("DnsName(\"a.example\")"), "a.example");
        assert_eq!(unwrap_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(unwrap_name("a.example"), "a.example");
    }

    #[test]
    fn alert_names_are_the_rfcs() {
        assert_eq!(
            alert_name(AlertDescription::CertificateUnknown),
            "certificate_unknown"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
    }

    #[test]
    fn our_v1_certificate_is_ours_and_in_words() {
        let error = rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(
            Arc::new(webpki::Error::UnsupportedCertVersion),
        )));
        let problem = own_certificate("client certificate and key", &error);
        assert_eq!(problem.kind(), TlsProblemKind::OwnCertificate);
        let text = problem.to_string();
        assert!(
            text.contains("our certificate is an X.509 version 1"),
            "{text}"
        );
        assert!(!text.contains("peer") && !text.contains("Other("), "{text}");
    }

    #[test]
    fn an_io_error_wrapping_a_tls_error_is_found() {
        let tls = rustls::Error::NoCertificatesPresented;
        let io = io::Error::new(io::ErrorKind::InvalidData, tls);
        let found = find(&io).expect("found");
        assert_eq!(found.kind(), TlsProblemKind::NoCertificate);
        assert!(find(&io::Error::other("plain")).is_none());
    }
}
