//! Carrying messages of older drafts forward to the typed model.
//!
//! Deployed converters still send drafts older than `2.D.V08`. Such a
//! message is first checked against the schema of the draft its `Version`
//! names, then taken through every later draft one step at a time, each step
//! applying the changes that draft made, and finally decoded as a typed
//! [`Message`] of the target draft (`2.D.V08` unless asked otherwise).
//!
//! Nothing is lost quietly. Every change the upgrade makes to what the
//! sender wrote — besides `Version` itself — is listed in
//! [`Upgraded::report`] as an [`UpgradeNote`]: the JSON pointer of the value
//! in the original message, what happened to it ([`NoteKind`]), why, and
//! the value concerned. What had to be made up (an identifier a later
//! draft requires) is listed too, with the pointer where it now sits.
//!
//! ```
//! use idmefv2::upgrade::{self, NoteKind};
//!
//! # fn main() -> Result<(), idmefv2::Error> {
//! let v04 = serde_json::json!({
//!     "Version": "2.D.V04",
//!     "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
//!     "CreateTime": "2021-05-01T10:00:00Z",
//!     "Status": "Incident",
//!     "Analyzer": {"Name": "ids", "IP": "192.0.2.1", "Type": ["Cyber"]}
//! });
//! let upgraded = upgrade::upgrade(&v04)?;
//! assert_eq!(upgraded.message.version.as_str(), "2.D.V08");
//! let moved: Vec<(&str, NoteKind)> =
//!     upgraded.report.iter().map(|n| (n.pointer.as_str(), n.kind)).collect();
//! assert_eq!(
//!     moved,
//!     [("/Analyzer/Type", NoteKind::Restructured), ("/Status", NoteKind::Restructured)]
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # What each step changes
//!
//! The steps were found by comparing the official schemas of consecutive
//! drafts; the tables say what this module does about each difference.
//! Changes that only widen what is accepted (a new optional member, a new
//! value in a list, a requirement lifted) need no action and are not listed.
//!
//! ## `2.D.V02` → `2.D.V03`
//!
//! Only `Version` differs.
//!
//! ## `2.D.V03` → `2.D.V04`
//!
//! | change in the draft | what the upgrade does | note |
//! |---|---|---|
//! | `Entity` replaced by `EntityName` and `EntityId` (plus new `OrganisationName`, `OrganisationId`) | `Entity` becomes `EntityName` | renamed |
//! | `Analyzer` rules now apply: in V02/V03 they sat under `items`, which does not apply to an object, so any analyzer object passed | analyzer members unknown to V04, or whose value breaks the V04 rules for that member, are removed | dropped |
//!
//! An analyzer without `Name` cannot be carried forward: the upgrade fails
//! with [`Error::Upgrade`] rather than invent a name.
//!
//! ## `2.D.V04` → `2.D.V05`
//!
//! Only `Version` differs.
//!
//! ## `2.D.V05` → `2.D.V06`
//!
//! | change in the draft | what the upgrade does | note |
//! |---|---|---|
//! | `Confidence` bounded to 0..=1 | a confidence outside the bounds is removed | dropped |
//!
//! (`ID` became an optional member of every class, `IP` stopped being
//! required on `Analyzer` and `Sensor`, `Category` stopped being required
//! on `Vector`: nothing to do.)
//!
//! ## `2.D.V06` → `2.D.V07`
//!
//! | change in the draft | what the upgrade does | note |
//! |---|---|---|
//! | `Analyzer.Type` removed; message-level `Type` added with the same values | the list moves to `Type` | restructured |
//! | `ext-Category` (message and analyzer), `ext-Data`, `ext-Method` now lists of texts | a text becomes a one-element list | restructured |
//! | `ID` required on `Source` and `Target` items | a fresh UUID (version 7) is given to each that lacks one | invented |
//! | `ID` required on `Analyzer` and `Sensor` items | the same, only when `2.D.V07` is the final target: `2.D.V08` lifts that requirement again | invented |
//! | `Vector` removed, with no counterpart | the whole `Vector` list is removed | dropped |
//! | message `Category` list rewritten | same event kind under a new family name: renamed (table below); `ext-value` → `Other.ext-value`; every other retired value becomes `Other.ext-value` with its old text appended to `ext-Category` | renamed / extended |
//! | analyzer `Category` list rewritten as `Family.PRODUCT` | one clear counterpart: renamed (table below); otherwise `ext-value` with the old text appended to the analyzer's `ext-Category` | renamed / extended |
//! | analyzer `Data`: five values respelt, two retired | respelt ones renamed; `Noise` and `Touch` become `ext-value` with the text appended to `ext-Data` | renamed / extended |
//!
//! Message categories that keep their meaning under a new name:
//!
//! | `2.D.V06` | `2.D.V07` |
//! |---|---|
//! | `Availability.Misconf` | `Availability.Misconfiguration` |
//! | `Meteorological.Fog` | `Meteo.Fog` |
//! | `Hydrological.Flood`, `.Landslide`, `.Wave` | `Hydro.Flood`, `.Landslide`, `.Wave` |
//! | `Climatological.Drought`, `.LakeOutburst`, `.Wildfire` | `Climat.Drought`, `.LakeOutburst`, `.Wildfire` |
//! | `Test.Test` | `Other.Test` |
//! | `ext-value` | `Other.ext-value` |
//!
//! The other retired categories (`Abusive.*`, `Malicious.*`, `Recon.*`,
//! `Attempt.*`, `Intrusion.*`, `Information.*`, `Vulnerable.*`,
//! `Availability.Theft`, `Availability.Sabotage`, `Fraud.UnauthorizedUsage`,
//! `Meteorological.Temperature`, `Meteorological.Storm`) have no single
//! counterpart in the new list, so they are carried as extensions rather
//! than guessed.
//!
//! Analyzer categories with one clear counterpart:
//!
//! | `2.D.V06` | `2.D.V07` | `2.D.V06` | `2.D.V07` |
//! |---|---|---|---|
//! | `1DLiS`, `2DLiS`, `3DLiS` | `PHY.1D-LiDAR`, `PHY.2D-LiDAR`, `PHY.3D-LiDAR` | `1DLaS`, `2DLaS`, `3DLaS` | `PHY.1D-LAS`, `PHY.2D-LAS`, `PHY.3D-LAS` |
//! | `VAD`, `HAR`, `ADS` | `PHY.VAD`, `PHY.HAR`, `PHY.ADS` | `VNIR`, `SWIR`, `MWIR`, `LWIR` | `PHY.VNIR`, `PHY.SWIR`, `PHY.MWIR`, `PHY.LWIR` |
//! | `AV`, `EDR`, `HIDS`, `HPT` | `END.AV`, `END.EDR`, `END.HIDS`, `END.HPT` | `FW`, `NIDS`, `WIDS`, `WAF`, `NAC` | `NET.FW`, `NET.NIDS`, `NET.WIDS`, `NET.WAF`, `NET.NAC` |
//! | `PROX` | `NET.PROXY` | `SPAM` | `EMAIL.SPAM-FILTER` |
//! | `IAM` | `ID.IAM` | `BAST` | `APP.BAST` |
//! | `LOG`, `ETL`, `NMS`, `SIEM` | `SIEM.LOG`, `SIEM.ETL`, `SIEM.NMS`, `SIEM.SIEM` | | |
//!
//! `FRC`, `ODC`, `DDOS`, `VPN` (no single counterpart) and `RASP` (two
//! candidates, `APP.RASP` and `END.RASP`) are carried as extensions.
//!
//! Analyzer data kinds: `Vibrations` → `Vibration`, `Thermic` → `Thermal`,
//! `MagneticField` → `Magnetic`, `Auth` → `Authentication`.
//!
//! ## `2.D.V07` → `2.D.V08`
//!
//! | change in the draft | what the upgrade does | note |
//! |---|---|---|
//! | `Status` now a list | the text becomes a one-element list | restructured |
//! | category `Recon.Netword` respelt `Recon.Network` | renamed | renamed |
//! | 41 entity sectors respelt (shorter family or kind names, same meaning: `CivilSociety.NGOs` → `Civil.NGOs`, `Waste.HazardousWaste` → `Waste.Hazardous`, …) | renamed, one for one | renamed |
//!
//! (`ID` stopped being required on `Analyzer` and `Sensor`; `ReportTime`
//! and source and target `Category` were added: nothing to do.)
//!
//! ## `2.D.V08` → `2.D.V09-Dev`
//!
//! Only `Version` differs.
//!
//! A message already at the target draft comes back unchanged with an empty
//! report; a message newer than the target is refused.

use std::fmt;

use serde_json::{Map, Value};

use serde::Deserialize;

use crate::{
    json, validate,
    validation::{self, explain_value},
    Draft, Error, Id, Limits, Message, Version, Violation,
};

/// What the upgrade did to one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoteKind {
    /// A member or list value kept its meaning under a new name.
    Renamed,
    /// The same content, moved to another member or reshaped (a text made
    /// a one-element list, for instance).
    Restructured,
    /// A list value the later draft retired, kept through the list's
    /// `ext-value` entry with its old text in the matching `ext-*` member.
    Extended,
    /// A value the later draft requires that the message did not have; the
    /// upgrade made it up.
    Invented,
    /// A value the later draft has no place for; it is not in the upgraded
    /// message, and the note holds it.
    Dropped,
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoteKind::Renamed => "renamed",
            NoteKind::Restructured => "restructured",
            NoteKind::Extended => "extended",
            NoteKind::Invented => "invented",
            NoteKind::Dropped => "dropped",
        })
    }
}

/// One change the upgrade made to the sender's message.
///
/// `Display` prints `pointer: kind: reason`, never the value, since alerts
/// carry sensitive data.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UpgradeNote {
    /// JSON pointer of the value in the original message; for an
    /// [`Invented`](NoteKind::Invented) value, where it sits in the
    /// upgraded message.
    pub pointer: String,
    /// What happened to the value.
    pub kind: NoteKind,
    /// The draft whose change caused this note (`2.D.V07`, say).
    pub draft: &'static str,
    /// Why, in words.
    pub reason: String,
    /// The value concerned: the original one when renamed, extended,
    /// restructured or dropped; the new one when invented.
    pub value: Option<Value>,
    /// Where the content now sits in the upgraded message, when that
    /// differs from `pointer`.
    pub moved_to: Option<String>,
}

impl fmt::Display for UpgradeNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.pointer, self.kind, self.reason)
    }
}

/// A message carried forward, with the list of changes made on the way.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Upgraded {
    /// The draft the message was written in.
    pub from: &'static str,
    /// The message, valid under the target draft.
    pub message: Message,
    /// Every change besides `Version`, in the order the steps made them.
    pub report: Vec<UpgradeNote>,
}

/// Carries a message of any supported draft to `2.D.V08`.
///
/// The message is first checked against the schema of its own draft; a
/// failure there is returned as is ([`Error::Invalid`] or
/// [`Error::UnsupportedVersion`]). A valid message that cannot be carried
/// forward gives [`Error::Upgrade`].
pub fn upgrade(message: &Value) -> Result<Upgraded, Error> {
    upgrade_to(message, Version::LATEST)
}

/// Carries a message of any supported draft to `target`.
///
/// Attachment content in the upgraded message is bounded by the default
/// [`Limits::max_depth`]; [`upgrade_slice`] takes explicit limits.
pub fn upgrade_to(message: &Value, target: Version) -> Result<Upgraded, Error> {
    let limits = Limits::default().with_max_bytes(usize::MAX);
    upgrade_with(message, target, &limits)
}

/// Reads one encoded JSON message under `limits` (size, nesting, duplicate
/// members refused) and carries it to `target`: the entry point for files
/// and network input.
///
/// ```
/// let v07 = br#"{"Version": "2.D.V07", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
///     "CreateTime": "2023-05-01T10:00:00Z", "Category": ["Recon.Netword"],
///     "Analyzer": {"ID": "6ba7b811-9dad-11d1-80b4-00c04fd430c8", "Name": "ids"}}"#;
/// let target = "2.D.V08".parse().expect("known version");
/// let upgraded = idmefv2::upgrade::upgrade_slice(v07, &idmefv2::Limits::default(), target)?;
/// assert_eq!(upgraded.report[0].pointer, "/Category/0");
/// assert_eq!(upgraded.message.to_value()["Category"][0], "Recon.Network");
/// # Ok::<(), idmefv2::Error>(())
/// ```
pub fn upgrade_slice(bytes: &[u8], limits: &Limits, target: Version) -> Result<Upgraded, Error> {
    if bytes.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let value = json::parse_value(bytes, limits.document_depth(), limits.max_depth)?;
    upgrade_with(&value, target, limits)
}

fn upgrade_with(message: &Value, target: Version, limits: &Limits) -> Result<Upgraded, Error> {
    let to = target.as_str();
    let (value, from, report) = carry(message, target.draft())?;
    // Straight from the value (no encoding and parsing again); the message
    // is written in the specification's member order.
    let typed = {
        let _budget = json::DepthBudget::set(limits.max_depth);
        Message::deserialize(&value)
    };
    let message = typed.map_err(|e| {
        let refused = explain_value(&value, Violation::new("model", e.to_string()));
        Error::Upgrade {
            from: from.as_str().to_string(),
            to,
            violations: refused.violations().into(),
        }
    })?;
    Ok(Upgraded {
        from: from.as_str(),
        message,
        report,
    })
}

/// Validates `message` under its own draft and applies every step up to
/// `to`, returning the untyped result, the original draft and the notes.
fn carry(message: &Value, to: Draft) -> Result<(Value, Draft, Vec<UpgradeNote>), Error> {
    validate(message)?;
    // A message that validates names a draft.
    let from: Draft = message["Version"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| validation::unsupported(message))?;
    if from > to {
        return Err(Error::Upgrade {
            from: from.as_str().to_string(),
            to: to.as_str(),
            violations: vec![Violation::new(
                "Version",
                "the message is newer than the target draft; going back is not supported",
            )
            .at("/Version")]
            .into(),
        });
    }
    let mut object = message.as_object().cloned().unwrap_or_default();
    let mut notes = Vec::new();
    for draft in Draft::ALL.into_iter().filter(|d| *d > from && *d <= to) {
        let mut ctx = Step {
            draft: draft.as_str(),
            last: draft == to,
            notes: &mut notes,
        };
        match draft {
            Draft::V04 => ctx.reach_v04(&mut object),
            Draft::V06 => ctx.reach_v06(&mut object),
            Draft::V07 => ctx.reach_v07(&mut object),
            Draft::V08 => ctx.reach_v08(&mut object),
            // The first draft, and drafts that change only `Version`.
            Draft::V02 | Draft::V03 | Draft::V05 | Draft::V09Dev => {}
        }
    }
    object.insert("Version".into(), Value::String(to.as_str().into()));
    Ok((Value::Object(object), from, notes))
}

/// Members of the analyzer class as `2.D.V04` defines them.
const ANALYZER_V04: [&str; 14] = [
    "Name",
    "Hostname",
    "IP",
    "Model",
    "Type",
    "Category",
    "ext-Category",
    "Data",
    "ext-Data",
    "Method",
    "ext-Method",
    "GeoLocation",
    "UnLocation",
    "Location",
];

/// A syntactically valid stand-in for required members while probing.
const PROBE_ID: &str = "00000000-0000-4000-8000-000000000000";
const PROBE_TIME: &str = "2000-01-01T00:00:00Z";

/// Renames of message categories in `2.D.V07` that keep their meaning.
const CATEGORY_V07: [(&str, &str); 10] = [
    ("Availability.Misconf", "Availability.Misconfiguration"),
    ("Meteorological.Fog", "Meteo.Fog"),
    ("Hydrological.Flood", "Hydro.Flood"),
    ("Hydrological.Landslide", "Hydro.Landslide"),
    ("Hydrological.Wave", "Hydro.Wave"),
    ("Climatological.Drought", "Climat.Drought"),
    ("Climatological.LakeOutburst", "Climat.LakeOutburst"),
    ("Climatological.Wildfire", "Climat.Wildfire"),
    ("Test.Test", "Other.Test"),
    ("ext-value", "Other.ext-value"),
];

/// Message categories of `2.D.V06` that `2.D.V07` still lists.
const CATEGORY_V07_KEPT: [&str; 17] = [
    "Availability.DoS",
    "Availability.DDoS",
    "Availability.Outage",
    "Availability.Failure",
    "Fraud.Copyright",
    "Fraud.Masquerade",
    "Fraud.Phishing",
    "Geophysical.Earthquake",
    "Geophysical.MassMovement",
    "Geophysical.Volcanic",
    "Biological.Epidemic",
    "Biological.Insect",
    "Biological.Animal",
    "Extraterrestrial.Impact",
    "Extraterrestrial.SpaceWeather",
    "Other.Uncategorised",
    "Other.Undetermined",
];

/// Analyzer categories of `2.D.V06` with one clear `2.D.V07` counterpart.
const ANALYZER_CATEGORY_V07: [(&str, &str); 30] = [
    ("1DLiS", "PHY.1D-LiDAR"),
    ("2DLiS", "PHY.2D-LiDAR"),
    ("3DLiS", "PHY.3D-LiDAR"),
    ("1DLaS", "PHY.1D-LAS"),
    ("2DLaS", "PHY.2D-LAS"),
    ("3DLaS", "PHY.3D-LAS"),
    ("VAD", "PHY.VAD"),
    ("HAR", "PHY.HAR"),
    ("ADS", "PHY.ADS"),
    ("VNIR", "PHY.VNIR"),
    ("SWIR", "PHY.SWIR"),
    ("MWIR", "PHY.MWIR"),
    ("LWIR", "PHY.LWIR"),
    ("AV", "END.AV"),
    ("EDR", "END.EDR"),
    ("HIDS", "END.HIDS"),
    ("HPT", "END.HPT"),
    ("FW", "NET.FW"),
    ("NIDS", "NET.NIDS"),
    ("WIDS", "NET.WIDS"),
    ("WAF", "NET.WAF"),
    ("NAC", "NET.NAC"),
    ("PROX", "NET.PROXY"),
    ("SPAM", "EMAIL.SPAM-FILTER"),
    ("IAM", "ID.IAM"),
    ("BAST", "APP.BAST"),
    ("LOG", "SIEM.LOG"),
    ("ETL", "SIEM.ETL"),
    ("NMS", "SIEM.NMS"),
    ("SIEM", "SIEM.SIEM"),
];

/// Analyzer categories of `2.D.V06` that `2.D.V07` still lists.
const ANALYZER_CATEGORY_V07_KEPT: [&str; 1] = ["ext-value"];

/// Analyzer data kinds respelt in `2.D.V07`.
const ANALYZER_DATA_V07: [(&str, &str); 4] = [
    ("Vibrations", "Vibration"),
    ("Thermic", "Thermal"),
    ("MagneticField", "Magnetic"),
    ("Auth", "Authentication"),
];

/// Analyzer data kinds of `2.D.V06` that `2.D.V07` still lists.
const ANALYZER_DATA_V07_KEPT: [&str; 28] = [
    "Light",
    "Images",
    "Lidar",
    "Seismic",
    "Temperature",
    "Rain",
    "Water",
    "Humidity",
    "Particles",
    "Contact",
    "Acoustics",
    "Fog",
    "External",
    "Reporting",
    "Connection",
    "Datagram",
    "Content",
    "Data",
    "File",
    "Flow",
    "Log",
    "Protocol",
    "Host",
    "Network",
    "Alert",
    "Relay",
    "SNMP",
    "ext-value",
];

/// Message categories respelt in `2.D.V08`.
const CATEGORY_V08: [(&str, &str); 1] = [("Recon.Netword", "Recon.Network")];

/// Entity sectors respelt in `2.D.V08`.
const ENTITY_SECTOR_V08: [(&str, &str); 41] = [
    ("Cemeteries.PublicCemeteries", "Cemeteries.Public"),
    ("Chemical.ChemicalProduction", "Chemical.Production"),
    (
        "CivilSociety.ElectionMonitoring",
        "Civil.ElectionMonitoring",
    ),
    ("CivilSociety.HumanitarianAid", "Civil.HumanitarianAid"),
    ("CivilSociety.NGOs", "Civil.NGOs"),
    ("CivilSociety.Other", "Civil.Other"),
    ("CulturalHeritage.Archives", "Cultural.Archives"),
    (
        "CulturalHeritage.HistoricalSites",
        "Cultural.HistoricalSites",
    ),
    ("CulturalHeritage.Libraries", "Cultural.Libraries"),
    ("CulturalHeritage.Museums", "Cultural.Museums"),
    ("CulturalHeritage.Other", "Cultural.Other"),
    ("Defense.CyberDefense", "Defense.Cyber"),
    ("Defense.DefenseIndustrialBase", "Defense.IndustrialBase"),
    ("Defense.MilitaryInstallations", "Defense.Installations"),
    (
        "EmergencyServices.CivilProtection",
        "Emergency.CivilProtection",
    ),
    ("EmergencyServices.EmergencyMedical", "Emergency.Medical"),
    ("EmergencyServices.FireAndRescue", "Emergency.FireAndRescue"),
    ("EmergencyServices.Police", "Emergency.Police"),
    ("EmergencyServices.Other", "Emergency.Other"),
    (
        "Finance.FinancialMarketInfrastructures",
        "Finance.MarketInfrastructures",
    ),
    (
        "Manufacturing.ComputerElectronicOptical",
        "Manufacturing.Electronic",
    ),
    (
        "Manufacturing.StrategicManufacturing",
        "Manufacturing.Strategic",
    ),
    (
        "MediaAndBroadcasting.BroadcastInfrastructure",
        "Media.Infrastructure",
    ),
    ("MediaAndBroadcasting.OnlineMedia", "Media.OnlineMedia"),
    ("MediaAndBroadcasting.Press", "Media.Press"),
    ("MediaAndBroadcasting.Radio", "Media.Radio"),
    ("MediaAndBroadcasting.Television", "Media.Television"),
    ("MediaAndBroadcasting.Other", "Media.Other"),
    ("Postal.PostalCourierServices", "Postal.CourierServices"),
    (
        "PublicAdministration.CentralGovernment",
        "Administration.CentralGovernment",
    ),
    (
        "PublicAdministration.Diplomatic",
        "Administration.Diplomatic",
    ),
    (
        "PublicAdministration.EmergencyServices",
        "Administration.EmergencyServices",
    ),
    ("PublicAdministration.Judiciary", "Administration.Judiciary"),
    (
        "PublicAdministration.LocalGovernment",
        "Administration.Local",
    ),
    ("PublicAdministration.Other", "Administration.Other"),
    (
        "ReligiousSites.PilgrimageSites",
        "Religious.PilgrimageSites",
    ),
    (
        "ReligiousSites.PlacesOfWorship",
        "Religious.PlacesOfWorship",
    ),
    ("ReligiousSites.Other", "Religious.Other"),
    ("Waste.HazardousWaste", "Waste.Hazardous"),
    ("Waste.NonHazardousWaste", "Waste.NonHazardous"),
    ("Waste.NuclearWaste", "Waste.Nuclear"),
];

/// How one list of values changes in a step.
struct ValueMap<'a> {
    /// The list member (`Category`, `Data`, ...).
    list: &'a str,
    /// Old value to new value, same meaning.
    renames: &'a [(&'a str, &'a str)],
    /// Values kept as they are; `None` keeps every value not renamed.
    kept: Option<&'a [&'a str]>,
    /// For values neither kept nor renamed: the extension entry that
    /// replaces them and the member that receives their text.
    extension: Option<(&'a str, &'a str)>,
}

/// One step's context: the draft it reaches and where notes go.
struct Step<'n> {
    draft: &'static str,
    last: bool,
    notes: &'n mut Vec<UpgradeNote>,
}

impl Step<'_> {
    fn note(
        &mut self,
        pointer: String,
        kind: NoteKind,
        reason: String,
        value: Option<Value>,
        moved_to: Option<String>,
    ) {
        self.notes.push(UpgradeNote {
            pointer,
            kind,
            draft: self.draft,
            reason,
            value,
            moved_to,
        });
    }

    /// `2.D.V03` → `2.D.V04`.
    fn reach_v04(&mut self, m: &mut Map<String, Value>) {
        if let Some(entity) = m.remove("Entity") {
            m.insert("EntityName".into(), entity.clone());
            self.note(
                "/Entity".into(),
                NoteKind::Renamed,
                format!("{} splits `Entity` into `EntityName` and `EntityId`; the text is the entity's name", self.draft),
                Some(entity),
                Some("/EntityName".into()),
            );
        }
        self.check_loose_analyzer(m);
    }

    /// The analyzer of `2.D.V02` and `2.D.V03` was never checked: keep the
    /// members that meet the `2.D.V04` rules, report the rest.
    fn check_loose_analyzer(&mut self, m: &mut Map<String, Value>) {
        let Some(Value::Object(analyzer)) = m.get_mut("Analyzer") else {
            return;
        };
        // Sorted, so that the report does not depend on map order.
        let mut unknown: Vec<String> = analyzer
            .keys()
            .filter(|k| !ANALYZER_V04.contains(&k.as_str()))
            .cloned()
            .collect();
        unknown.sort();
        let mut dropped: Vec<(String, Value, &str)> = Vec::new();
        for name in unknown {
            let value = analyzer.remove(&name).unwrap_or(Value::Null);
            dropped.push((name, value, "is not part of the class"));
        }
        let probe = serde_json::json!({
            "Version": "2.D.V04",
            "ID": PROBE_ID,
            "CreateTime": PROBE_TIME,
            "Analyzer": Value::Object(analyzer.clone()),
        });
        if let Err(e) = validate(&probe) {
            let mut bad: Vec<String> = e
                .violations()
                .iter()
                .filter_map(|v| v.pointer().strip_prefix("/Analyzer/"))
                .map(|rest| json::unescape_segment(rest.split('/').next().unwrap_or_default()))
                .collect();
            bad.sort();
            bad.dedup();
            for name in bad {
                if let Some(value) = analyzer.remove(&name) {
                    dropped.push((name, value, "breaks the rules set for it"));
                }
            }
        }
        for (name, value, why) in dropped {
            self.note(
                format!("/Analyzer/{}", json::escape_segment(&name)),
                NoteKind::Dropped,
                format!(
                    "2.D.V02 and 2.D.V03 did not check analyzer members; {} does, and this one {why}",
                    self.draft
                ),
                Some(value),
                None,
            );
        }
    }

    /// `2.D.V05` → `2.D.V06`.
    fn reach_v06(&mut self, m: &mut Map<String, Value>) {
        let out_of_range = m
            .get("Confidence")
            .and_then(Value::as_f64)
            .is_some_and(|c| !(0.0..=1.0).contains(&c));
        if out_of_range {
            let value = m.remove("Confidence");
            self.note(
                "/Confidence".into(),
                NoteKind::Dropped,
                format!(
                    "{} bounds Confidence to 0..1; this one is outside",
                    self.draft
                ),
                value,
                None,
            );
        }
    }

    /// `2.D.V06` → `2.D.V07`.
    fn reach_v07(&mut self, m: &mut Map<String, Value>) {
        // Reshape before any value is appended to an extension list.
        self.text_to_list(m, "", "ext-Category");
        if let Some(Value::Object(analyzer)) = m.get_mut("Analyzer") {
            for member in ["ext-Category", "ext-Data", "ext-Method"] {
                self.text_to_list(analyzer, "/Analyzer", member);
            }
        }
        let types = m
            .get_mut("Analyzer")
            .and_then(Value::as_object_mut)
            .and_then(|a| a.remove("Type"));
        if let Some(types) = types {
            m.insert("Type".into(), types.clone());
            self.note(
                "/Analyzer/Type".into(),
                NoteKind::Restructured,
                format!(
                    "{} describes the incident's nature in the message-level `Type`",
                    self.draft
                ),
                Some(types),
                Some("/Type".into()),
            );
        }
        if let Some(vector) = m.remove("Vector") {
            self.note(
                "/Vector".into(),
                NoteKind::Dropped,
                format!(
                    "{} removed the Vector class and has no counterpart",
                    self.draft
                ),
                Some(vector),
                None,
            );
        }
        self.map_values(
            m,
            "",
            &ValueMap {
                list: "Category",
                renames: &CATEGORY_V07,
                kept: Some(&CATEGORY_V07_KEPT),
                extension: Some(("Other.ext-value", "ext-Category")),
            },
        );
        if let Some(Value::Object(analyzer)) = m.get_mut("Analyzer") {
            self.map_values(
                analyzer,
                "/Analyzer",
                &ValueMap {
                    list: "Category",
                    renames: &ANALYZER_CATEGORY_V07,
                    kept: Some(&ANALYZER_CATEGORY_V07_KEPT),
                    extension: Some(("ext-value", "ext-Category")),
                },
            );
            self.map_values(
                analyzer,
                "/Analyzer",
                &ValueMap {
                    list: "Data",
                    renames: &ANALYZER_DATA_V07,
                    kept: Some(&ANALYZER_DATA_V07_KEPT),
                    extension: Some(("ext-value", "ext-Data")),
                },
            );
            if self.last {
                self.invent_id(analyzer, "/Analyzer");
            }
        }
        for (class, always) in [("Sensor", false), ("Source", true), ("Target", true)] {
            if !(always || self.last) {
                continue;
            }
            if let Some(Value::Array(items)) = m.get_mut(class) {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Object(item) = item {
                        self.invent_id(item, &format!("/{class}/{i}"));
                    }
                }
            }
        }
    }

    /// `2.D.V07` → `2.D.V08`.
    fn reach_v08(&mut self, m: &mut Map<String, Value>) {
        if let Some(status) = m.get_mut("Status") {
            if status.is_string() {
                let old = status.take();
                *status = Value::Array(vec![old.clone()]);
                self.note(
                    "/Status".into(),
                    NoteKind::Restructured,
                    format!("{} makes Status a list of states", self.draft),
                    Some(old),
                    Some("/Status/0".into()),
                );
            }
        }
        self.map_values(
            m,
            "",
            &ValueMap {
                list: "Category",
                renames: &CATEGORY_V08,
                kept: None,
                extension: None,
            },
        );
        self.map_values(
            m,
            "",
            &ValueMap {
                list: "EntitySector",
                renames: &ENTITY_SECTOR_V08,
                kept: None,
                extension: None,
            },
        );
    }

    /// Makes the text member `name` of `object` a one-element list.
    fn text_to_list(&mut self, object: &mut Map<String, Value>, base: &str, name: &str) {
        if let Some(value) = object.get_mut(name) {
            if value.is_string() {
                let old = value.take();
                *value = Value::Array(vec![old.clone()]);
                self.note(
                    format!("{base}/{name}"),
                    NoteKind::Restructured,
                    format!("{} makes {name} a list of texts", self.draft),
                    Some(old),
                    Some(format!("{base}/{name}/0")),
                );
            }
        }
    }

    /// Gives `object` a fresh `ID` if it has none.
    fn invent_id(&mut self, object: &mut Map<String, Value>, base: &str) {
        if object.contains_key("ID") {
            return;
        }
        let id = Value::String(Id::generate().as_str().to_string());
        object.insert("ID".into(), id.clone());
        self.note(
            format!("{base}/ID"),
            NoteKind::Invented,
            format!(
                "{} requires an ID here; a fresh UUID was made up",
                self.draft
            ),
            Some(id),
            None,
        );
    }

    /// Rewrites the values of one list member of `object` as `map` says,
    /// noting each change in list order.
    fn map_values(&mut self, object: &mut Map<String, Value>, base: &str, map: &ValueMap<'_>) {
        // An extension member that is not a list cannot receive values;
        // the retired values then stay, and the final check refuses them.
        let extension = map
            .extension
            .filter(|(_, ext)| object.get(*ext).is_none_or(Value::is_array));
        let ext_len = extension
            .and_then(|(_, ext)| object.get(ext))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let Some(Value::Array(items)) = object.get_mut(map.list) else {
            return;
        };
        let mut carried: Vec<Value> = Vec::new();
        for (i, item) in items.iter_mut().enumerate() {
            let Some(old) = item.as_str() else { continue };
            let pointer = format!("{base}/{}/{i}", map.list);
            if let Some((_, new)) = map.renames.iter().find(|(from, _)| *from == old) {
                let old = std::mem::replace(item, Value::String((*new).into()));
                self.note(
                    pointer,
                    NoteKind::Renamed,
                    format!("{} calls this value `{new}`", self.draft),
                    Some(old),
                    None,
                );
            } else if map.kept.is_some_and(|kept| !kept.contains(&old)) {
                let Some((entry, ext)) = extension else {
                    continue;
                };
                let old = std::mem::replace(item, Value::String(entry.into()));
                let at = ext_len + carried.len();
                carried.push(old.clone());
                self.note(
                    pointer,
                    NoteKind::Extended,
                    format!(
                        "{} no longer lists this value; it became `{entry}` with the old text in {ext}",
                        self.draft
                    ),
                    Some(old),
                    Some(format!("{base}/{ext}/{at}")),
                );
            }
        }
        if let (Some((_, ext)), false) = (extension, carried.is_empty()) {
            if let Value::Array(list) = object
                .entry(ext)
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                list.extend(carried);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enum values of `definition` in our schema for `version`.
    fn values(version: &str, definition: &str) -> Vec<String> {
        let schema: Value = serde_json::from_str(crate::schema(version).unwrap()).unwrap();
        schema["definitions"][definition]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// Every value of the old list lands on a value of the new list, and a
    /// value the new list still has is kept as is.
    fn check_table(
        old: (&str, &str),
        new: (&str, &str),
        renames: &[(&str, &str)],
        kept: Option<&[&str]>,
        extension: Option<&str>,
    ) {
        let before = values(old.0, old.1);
        let after = values(new.0, new.1);
        for value in &before {
            let renamed = renames.iter().find(|(from, _)| from == value);
            let is_kept = kept.map_or(renamed.is_none(), |k| k.contains(&value.as_str()));
            if let Some((_, to)) = renamed {
                assert!(after.contains(&to.to_string()), "{value} -> {to}");
                assert!(!after.contains(value), "{value} is still listed");
                assert!(!is_kept, "{value} both kept and renamed");
            } else if is_kept {
                assert!(after.contains(value), "{value} is kept but not listed");
            } else {
                assert!(!after.contains(value), "{value} extended but still listed");
                assert!(after.contains(&extension.unwrap().to_string()));
            }
        }
        for (from, _) in renames {
            assert!(before.contains(&from.to_string()), "{from} was not listed");
        }
    }

    #[test]
    fn value_tables_agree_with_the_schemas() {
        let v06 = "2.D.V06";
        let v07 = "2.D.V07";
        let v08 = "2.D.V08";
        check_table(
            (v06, "Category"),
            (v07, "Category"),
            &CATEGORY_V07,
            Some(&CATEGORY_V07_KEPT),
            Some("Other.ext-value"),
        );
        check_table(
            (v06, "AnalyzerCategory"),
            (v07, "AnalyzerCategory"),
            &ANALYZER_CATEGORY_V07,
            Some(&ANALYZER_CATEGORY_V07_KEPT),
            Some("ext-value"),
        );
        check_table(
            (v06, "AnalyzerData"),
            (v07, "AnalyzerData"),
            &ANALYZER_DATA_V07,
            Some(&ANALYZER_DATA_V07_KEPT),
            Some("ext-value"),
        );
        check_table(
            (v06, "AnalyzerMethod"),
            (v07, "AnalyzerMethod"),
            &[],
            None,
            None,
        );
        check_table(
            (v07, "Category"),
            (v08, "Category"),
            &CATEGORY_V08,
            None,
            None,
        );
        check_table(
            (v07, "EntitySector"),
            (v08, "EntitySector"),
            &ENTITY_SECTOR_V08,
            None,
            None,
        );
        check_table((v07, "Status"), (v08, "Status"), &[], None, None);
        check_table(
            (v07, "IncidentType"),
            (v08, "IncidentType"),
            &[],
            None,
            None,
        );
        check_table(
            ("2.D.V06", "AnalyzerType"),
            (v07, "IncidentType"),
            &[],
            None,
            None,
        );
    }

    #[test]
    fn analyzer_members_match_the_v04_schema() {
        let schema: Value = serde_json::from_str(crate::schema("2.D.V04").unwrap()).unwrap();
        let mut names: Vec<&str> = schema["definitions"]["Analyzer"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut ours = ANALYZER_V04.to_vec();
        ours.sort_unstable();
        assert_eq!(names, ours);
    }

    /// Every fixture of every draft, after each step, validates against the
    /// schema of the draft that step reaches (the intermediate drafts
    /// included), as long as the message carries what the intermediate
    /// drafts require.
    #[test]
    fn every_step_reaches_a_valid_message_of_its_draft() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/drafts/valid");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let from: Draft = value["Version"].as_str().unwrap().parse().unwrap();
            for draft in Draft::ALL.into_iter().filter(|d| *d >= from) {
                let (out, _, _) = carry(&value, draft).unwrap();
                // 2.D.V04 and 2.D.V05 require the analyzer's IP, which the
                // loose analyzers of 2.D.V02/V03 may lack.
                let needs_ip =
                    matches!(draft, Draft::V04 | Draft::V05) && out["Analyzer"].get("IP").is_none();
                if !needs_ip {
                    validate(&out).unwrap_or_else(|e| panic!("{} to {draft}: {e}", path.display()));
                    seen += 1;
                }
            }
        }
        assert!(seen > 30, "only {seen} checks");
    }
}
