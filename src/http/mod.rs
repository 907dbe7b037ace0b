//! IDMEFv2 over HTTPS, as draft-lehmann-idmefv2-https-transport-05 lays it
//! out: each message is the body of its own `POST`, its `Content-Type`
//! names the codec, and the status code is the receiver's answer — a 2xx
//! only once the message is safely kept, a 4xx when the message itself is
//! refused (never worth sending again as is), a 5xx when the receiver
//! could not deal with it (worth sending again later).
//!
//! Both ends speak TLS 1.3 and nothing older (rustls with the ring
//! provider; no OpenSSL), authenticate each other with X.509 certificates,
//! identify peers by DNS-ID only and refuse wildcard names; see [`tls`].
//! HTTP/2 is chosen by ALPN when both ends offer it, HTTP/1.1 with
//! persistent connections otherwise; HTTP/2 over plain TCP (`h2c`) is never
//! used.
//!
//! - [`server`] (feature `server`): the receiving end — an axum extractor
//!   and a ready [`Server`](server::Server) that hands each accepted
//!   message to a [`Sink`](crate::sink::Sink) (such as the durable
//!   [`FileSink`](crate::sink::FileSink)).
//! - [`client`] (feature `client`): the sending end — a
//!   [`Client`](client::Client) whose errors say whether to send again, and
//!   a blocking facade.
//! - the durable sender is the transport-agnostic
//!   [`outbox`](crate::outbox) (feature `outbox`, implied by `client`),
//!   which a [`Client`](client::Client) plugs into.
//! - [`discovery`] (feature `client`): finding a domain's receivers by
//!   DNS SRV records, for [`Client::discover`](client::Client::discover).
//!
//! The draft makes the 2xx the receiver's promise that the message is
//! kept, and says nothing of what a sender does otherwise. Here, a sender
//! with an [`Outbox`](crate::outbox::Outbox) sends again until it gets that
//! promise, so a message may arrive twice (at least once, never zero
//! times); a receiver drops repeats (same `ID`, same content) with
//! [`Dedup`](crate::sink::Dedup).
//!
//! # The refusal body
//!
//! A message that fails decoding or validation is answered with status 400
//! and a JSON body listing every failure, with the pointer and reason of
//! each and never the offending value:
//!
//! ```json
//! {"error":"invalid IDMEFv2 message","violations":[{"pointer":"/ID","keyword":"pattern","reason":"not a UUID (8-4-4-4-12 hexadecimal digits)"}]}
//! ```
//!
//! `pointer` and `reason` are what a client relies on; `keyword` and
//! `error` are extras.

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod discovery;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
pub mod tls;

#[cfg(any(feature = "client", feature = "server"))]
use crate::Violation;

/// A refusal body: what went wrong in words, and the failures when the
/// message was judged (each in [`Violation`]'s own JSON shape).
#[derive(serde::Serialize, serde::Deserialize)]
struct WireRefusal<V> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    violations: Vec<V>,
}

/// The JSON body of a refusal: `error` (what happened) and `violations`.
#[cfg(feature = "server")]
pub(crate) fn refusal_body<'a>(
    error: &str,
    violations: impl IntoIterator<Item = &'a Violation>,
) -> Vec<u8> {
    let body = WireRefusal {
        error: Some(error.to_string()),
        violations: violations.into_iter().collect(),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The violations of a refusal body, when it has the shape above (with at
/// least `violations`, each with `pointer` and `reason`).
#[cfg(feature = "client")]
pub(crate) fn parse_violations(body: &[u8]) -> Option<Vec<Violation>> {
    let refusal: WireRefusal<Violation> = serde_json::from_slice(body).ok()?;
    Some(refusal.violations)
}

#[cfg(feature = "client")]
pub(crate) use crate::outbox::random_below;

/// The media types a receiver can answer in: its bodies are JSON.
#[cfg(feature = "server")]
pub(crate) const ANSWER_TYPES: [&str; 2] = ["application/json", "text/json"];

/// The media type to answer in under an `Accept` header, or `None` when
/// none of [`ANSWER_TYPES`] is acceptable. No header means
/// `application/json`. Ranges (`*/*`, `application/*`) and quality values
/// count; `q=0` excludes; among equal qualities the more specific range
/// wins, then our order.
#[cfg(feature = "server")]
pub(crate) fn negotiate(accept: Option<&str>) -> Option<&'static str> {
    let Some(accept) = accept else {
        return Some(ANSWER_TYPES[0]);
    };
    // For each type we offer: (quality, specificity) of the best matching
    // range; a more specific range overrides a broader one.
    let mut best: [Option<(u16, u8)>; 2] = [None, None];
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let mut quality = 1000u16;
        for parameter in parts {
            if let Some((key, value)) = parameter.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    quality = parse_quality(value.trim()).unwrap_or(0);
                }
            }
        }
        let Some((kind, subtype)) = name.split_once('/') else {
            continue;
        };
        for (slot, offered) in best.iter_mut().zip(ANSWER_TYPES) {
            let (okind, osub) = offered.split_once('/').unwrap_or_default();
            let specificity = match (kind, subtype) {
                ("*", "*") => 1,
                (k, "*") if k == okind => 2,
                (k, s) if k == okind && s == osub => 3,
                _ => continue,
            };
            if slot.is_none_or(|(_, s)| specificity > s) {
                *slot = Some((quality, specificity));
            } else if let Some((q, s)) = slot {
                if specificity == *s && quality > *q {
                    *q = quality;
                }
            }
        }
    }
    let mut chosen: Option<(u16, &'static str)> = None;
    for (slot, offered) in best.iter().zip(ANSWER_TYPES) {
        if let Some((quality, _)) = slot {
            if *quality > 0 && chosen.is_none_or(|(q, _)| *quality > q) {
                chosen = Some((*quality, offered));
            }
        }
    }
    chosen.map(|(_, t)| t)
}

/// A quality value (`0`, `0.5`, `1.000`) in thousandths.
#[cfg(feature = "server")]
fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[test]
    fn accept_is_negotiated_with_ranges_and_qualities() {
        assert_eq!(negotiate(None), Some("application/json"));
        assert_eq!(
            negotiate(Some("application/json")),
            Some("application/json")
        );
        assert_eq!(negotiate(Some("*/*")), Some("application/json"));
        assert_eq!(negotiate(Some("text/*")), Some("text/json"));
        assert_eq!(
            negotiate(Some("Application/JSON; charset=utf-8")),
            Some("application/json")
        );
        assert_eq!(
            negotiate(Some("application/json;q=0.2, text/json;q=0.9")),
            Some("text/json")
        );
        assert_eq!(negotiate(Some("application/x-example-type")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
        assert_eq!(
            negotiate(Some("*/*;q=0.5, application/json;q=0")),
            Some("text/json")
        );
        assert_eq!(negotiate(Some("")), None);
        assert_eq!(negotiate(Some("text/html, application/xml;q=0.9")), None);
    }

    #[test]
    fn refusal_bodies_read_back() {
        let v = [Violation::new(crate::SchemaKeyword::Pattern, "not a UUID").at("/ID")];
        let body = refusal_body("invalid IDMEFv2 message", &v);
        let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(value["violations"][0]["pointer"], "/ID");
        assert_eq!(value["violations"][0]["reason"], "not a UUID");
    }
}
