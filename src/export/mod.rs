//! IDMEFv2 alerts as OCSF Detection Findings and STIX 2.1 bundles.
//!
//! Lakes and SIEMs speak OCSF (the Open Cybersecurity Schema Framework);
//! threat-sharing platforms speak STIX 2.1 over TAXII. This module maps one
//! IDMEFv2 message to either, as a [`serde_json::Value`]:
//!
//! - [`to_ocsf`]: one OCSF [`OCSF_VERSION`] Detection Finding (class 2004,
//!   activity 1 Create, `type_uid` 200401). Its `raw_data` holds the
//!   IDMEFv2 message, so the finding loses nothing.
//! - [`to_stix`]: one STIX [`STIX_VERSION`] bundle: an `incident`, an
//!   `identity` for the analyzer, the cyber-observable objects the alert
//!   names (addresses, network traffic, domain names, URLs, e-mail
//!   addresses, files), an `observed-data` referring to them and
//!   `relationship`s tying them to the incident.
//!
//! The field-by-field mapping, and the list of fields with no place, is in
//! the repository's `docs/export.md`.
//!
//! ```
//! use idmefv2::{export, Analyzer, Message, Source};
//!
//! # fn main() -> Result<(), idmefv2::Error> {
//! let message = Message::builder(Analyzer::builder("edge-ids"))
//!     .description("Port scan")
//!     .source(Source::builder(idmefv2::Id::generate()).ip("198.51.100.7").port(4444u16))
//!     .build()?;
//! let finding = export::to_ocsf(&message)?;
//! assert_eq!(finding["class_uid"], 2004);
//! assert_eq!(finding["evidences"][0]["src_endpoint"]["port"], 4444);
//! let bundle = export::to_stix(&message)?;
//! assert_eq!(bundle, export::to_stix(&message)?); // the same ids every time
//! # Ok(())
//! # }
//! ```
//!
//! # Deterministic output
//!
//! Every STIX id is a version 5 UUID: the `incident`, `identity`,
//! `observed-data`, `relationship` and `bundle` ids are derived from the
//! message `ID`; cyber-observable ids follow STIX's own rule (its namespace
//! and the object's ID-contributing properties), so the same address gets
//! the same id in every bundle. Exporting a message twice gives the same
//! bytes. The `incident` carries the message `ID` verbatim as an external
//! reference (`source_name` [`STIX_SOURCE_NAME`]); its id cannot be the `ID`
//! itself, since STIX ids take UUID versions 1 to 5 only and IDMEFv2 IDs
//! are commonly version 7.
//!
//! # What is refused
//!
//! The IDMEFv2 schema accepts values that neither format can hold. Rather
//! than change such a value or leave it out, the export refuses the whole
//! message with [`Error::Export`], naming the value's JSON pointer:
//!
//! - a timestamp that names no instant, where the export places it
//!   (`CreateTime`, `StartTime`, `EndTime`): no UTC offset (a local time of
//!   unknown zone), a date the calendar lacks (`2026-02-31`, month `00`),
//!   a leap second (`23:59:60`: OCSF times are milliseconds of Unix time,
//!   which has none), or a year that UTC puts outside 0000–9999;
//! - an IP address not in the plain form both formats take: IPv4 with
//!   leading zeros (`010.0.0.1`, read as octal by some parsers) or IPv6
//!   with a zone index (`fe80::1%eth0`);
//! - a port outside 0–65535.
//!
//! The message itself stays valid IDMEFv2; only its export is refused.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use crate::{
    upgrade::{self, UpgradeNote},
    Error, Id, Limits, Message, Result, Timestamp,
};

mod ocsf;
mod stix;

/// The OCSF schema version the Detection Findings follow.
pub const OCSF_VERSION: &str = "1.5.0";

/// The STIX version of the bundles.
pub const STIX_VERSION: &str = "2.1";

/// The `source_name` of the STIX external reference that carries the
/// message `ID`.
pub const STIX_SOURCE_NAME: &str = "idmefv2";

/// A message of any supported draft, exported, with what the upgrade to
/// the typed model changed on the way.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Exported {
    /// The OCSF finding or STIX bundle.
    pub value: Value,
    /// The draft the message was written in.
    pub from: &'static str,
    /// Every change the upgrade made before the export (empty for a
    /// message of the typed model's drafts); see
    /// [`Upgraded::report`](crate::upgrade::Upgraded::report).
    pub report: Vec<UpgradeNote>,
}

/// The two export formats, for code that picks one at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// An OCSF Detection Finding ([`to_ocsf`]).
    Ocsf,
    /// A STIX 2.1 bundle ([`to_stix`]).
    Stix,
}

impl Format {
    /// Every format, in the order of [`Format::as_str`]'s names.
    pub const ALL: [Format; 2] = [Format::Ocsf, Format::Stix];

    /// The format's name: `ocsf` or `stix`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Ocsf => "ocsf",
            Format::Stix => "stix",
        }
    }

    /// Exports a typed message in this format.
    pub fn export(self, message: &Message) -> Result<Value> {
        match self {
            Format::Ocsf => to_ocsf(message),
            Format::Stix => to_stix(message),
        }
    }

    /// Reads one encoded message of any supported draft under `limits`
    /// and exports it in this format (see [`to_ocsf_slice`]).
    pub fn export_slice(self, bytes: &[u8], limits: &Limits) -> Result<Exported> {
        let (message, from, report) = typed_from_slice(bytes, limits)?;
        let value = self.with_raw(&message, &report, || {
            String::from_utf8_lossy(bytes).into_owned()
        })?;
        Ok(Exported {
            value,
            from,
            report,
        })
    }

    /// Exports an untyped message of any supported draft in this format
    /// (see [`to_ocsf_value`]).
    pub fn export_value(self, message: &Value) -> Result<Exported> {
        let bytes = serde_json::to_vec(message).map_err(|e| Error::Conversion(e.to_string()))?;
        let (message_typed, from, report) = typed_from_slice(&bytes, &Limits::default())?;
        let value = self.with_raw(&message_typed, &report, || message.to_string())?;
        Ok(Exported {
            value,
            from,
            report,
        })
    }

    /// The export of `message`, upgraded with `report`, with `raw` for
    /// OCSF's `raw_data`. An ID the upgrade made up is not the sender's
    /// and differs at each upgrade, so it is left out of the export.
    fn with_raw(
        self,
        message: &Message,
        report: &[UpgradeNote],
        raw: impl FnOnce() -> String,
    ) -> Result<Value> {
        let invented: Vec<&str> = report
            .iter()
            .filter(|n| n.kind == upgrade::NoteKind::Invented)
            .map(|n| n.pointer.as_str())
            .collect();
        match self {
            Format::Ocsf => ocsf::finding(message, raw(), &invented),
            Format::Stix => stix::bundle(message),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                Error::Conversion(format!(
                    "unknown export format; known: {}",
                    names.join(", ")
                ))
            })
    }
}

/// The message as an OCSF Detection Finding; `raw_data` holds the message
/// as [`Message::to_vec`] writes it (the text it was read from, member
/// order and number forms included).
pub fn to_ocsf(message: &Message) -> Result<Value> {
    ocsf::finding(
        message,
        String::from_utf8_lossy(&message.to_vec()).into_owned(),
        &[],
    )
}

/// The message as a STIX 2.1 bundle.
pub fn to_stix(message: &Message) -> Result<Value> {
    stix::bundle(message)
}

/// Reads one encoded JSON message of any supported draft under `limits`
/// and exports it as an OCSF Detection Finding whose `raw_data` is
/// `bytes` exactly as given. A message of a draft older than the typed
/// model is upgraded first ([`upgrade::upgrade_latest`]), and the changes
/// are listed in [`Exported::report`]; `raw_data` still holds the message
/// as sent, in its own draft.
pub fn to_ocsf_slice(bytes: &[u8], limits: &Limits) -> Result<Exported> {
    Format::Ocsf.export_slice(bytes, limits)
}

/// Reads one encoded JSON message of any supported draft under `limits`
/// and exports it as a STIX 2.1 bundle, upgrading an older draft first.
pub fn to_stix_slice(bytes: &[u8], limits: &Limits) -> Result<Exported> {
    Format::Stix.export_slice(bytes, limits)
}

/// Exports an untyped message of any supported draft as an OCSF Detection
/// Finding, upgrading an older draft first; `raw_data` holds `message` in
/// compact JSON.
pub fn to_ocsf_value(message: &Value) -> Result<Exported> {
    Format::Ocsf.export_value(message)
}

/// Exports an untyped message of any supported draft as a STIX 2.1
/// bundle, upgrading an older draft first.
pub fn to_stix_value(message: &Value) -> Result<Exported> {
    Format::Stix.export_value(message)
}

/// The typed message in `bytes`, upgraded when of an older draft.
fn typed_from_slice(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Message, &'static str, Vec<UpgradeNote>)> {
    match Message::from_slice_with(bytes, limits) {
        Ok(message) => Ok((message.version.as_str(), message))
            .map(|(from, message)| (message, from, Vec::new())),
        Err(Error::OlderDraft { .. }) => {
            let upgraded = upgrade::Options::default()
                .limits(*limits)
                .upgrade_slice(bytes)?;
            Ok((upgraded.message, upgraded.from, upgraded.report))
        }
        Err(e) => Err(e),
    }
}

/// A timestamp as an instant in UTC, or the refusal naming `pointer`.
pub(crate) fn instant(t: &Timestamp, pointer: &str) -> Result<time::OffsetDateTime> {
    let refuse = |reason: String| Error::Export {
        pointer: pointer.to_string(),
        reason,
    };
    if let Some(fields) = crate::model::scalar::TimestampFields::read(t.as_str()) {
        if fields.second == 60 {
            return Err(refuse(
                "a leap second, which OCSF's Unix-time milliseconds cannot count and STIX \
                 readers do not take"
                    .into(),
            ));
        }
        if fields.offset_minutes.is_none() {
            return Err(refuse(
                "no UTC offset: a local time of unknown zone names no instant".into(),
            ));
        }
    }
    let at = t
        .to_offset_date_time()
        .map_err(|_| refuse("not a date and time of the calendar".into()))?;
    let utc = at.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) {
        return Err(refuse(
            "the instant falls outside the years 0000-9999 in UTC".into(),
        ));
    }
    Ok(utc)
}

/// Milliseconds since the Unix epoch (rounded down), as OCSF times are.
pub(crate) fn epoch_millis(t: time::OffsetDateTime) -> i64 {
    // Years 0000-9999 keep this well within i64.
    t.unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

/// RFC 3339 in UTC with at least millisecond precision, as STIX wants for
/// `created` and `modified`; a finer fraction is kept (6 or 9 digits).
pub(crate) fn stix_time(t: time::OffsetDateTime) -> String {
    let nanos = t.nanosecond();
    let fraction = if nanos.is_multiple_of(1_000_000) {
        format!("{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!("{:06}", nanos / 1_000)
    } else {
        format!("{nanos:09}")
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{fraction}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An address in its canonical text (RFC 5952 for IPv6, hexadecimal
/// groups throughout), or the refusal naming `pointer`.
pub(crate) fn address(text: &str, pointer: &str) -> Result<IpAddr> {
    text.parse::<IpAddr>().map_err(|_| Error::Export {
        pointer: pointer.to_string(),
        reason: "not an IP address in the plain form OCSF and STIX take (IPv4 without \
                 leading zeros, IPv6 without a zone index)"
            .into(),
    })
}

/// The canonical text of an address: RFC 5952 for IPv6, except that an
/// embedded IPv4 address is written as two hexadecimal groups too, a form
/// every IPv6 reader takes.
pub(crate) fn address_text(ip: IpAddr) -> String {
    let text = ip.to_string();
    match ip {
        IpAddr::V6(v6) if text.contains('.') => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:x}")).collect();
            groups.join(":")
        }
        _ => text,
    }
}

/// A port as a number from 0 to 65535, or the refusal naming `pointer`.
pub(crate) fn port(p: &crate::types::Integer, pointer: &str) -> Result<u16> {
    p.as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| Error::Export {
            pointer: pointer.to_string(),
            reason: "a port is a number from 0 to 65535 in both OCSF and STIX".into(),
        })
}

/// The title both formats give the alert: the `Description`, or else the
/// categories, or else the analyzer's name.
pub(crate) fn title(message: &Message) -> String {
    if let Some(d) = message.description.as_deref().filter(|d| !d.is_empty()) {
        return d.to_string();
    }
    let categories: Vec<&str> = message
        .category
        .iter()
        .flatten()
        .map(|c| c.as_str())
        .collect();
    if !categories.is_empty() {
        return categories.join(", ");
    }
    format!("IDMEFv2 alert from {}", message.analyzer.name)
}

/// `Confidence` (0 to 1) as a whole percentage, rounded to the nearest.
pub(crate) fn percent(message: &Message) -> Option<i64> {
    message
        .confidence
        .as_ref()
        .map(|c| (c.value() * 100.0).round() as i64)
}

/// The message `ID` in lowercase, the form of a UUID in STIX and the key
/// of every id derived from it.
pub(crate) fn id_text(id: &Id) -> String {
    id.to_uuid().hyphenated().to_string()
}

/// Inserts `value` under `key` when there is one.
pub(crate) fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v);
    }
}

/// A JSON list of texts.
pub(crate) fn texts<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    json!(items.into_iter().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests;
