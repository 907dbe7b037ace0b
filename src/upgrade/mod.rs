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
//! Asked to with [`Options::repair`], the upgrade also repairs what
//! deployed senders commonly get wrong — a single text where a list of
//! texts is wanted — and lists each repair; see [`Options`].
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
//! let upgraded = upgrade::upgrade_latest(&v04)?;
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
//! Which values a draft retired is read from the schemas themselves; the
//! renames below are the upgrade's own knowledge, and a test holds these
//! tables equal to the data the steps use.
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
//! | message `Category` list rewritten | same event kind under a new family name: renamed (table below); every other retired value becomes `Other.ext-value` with its old text appended to `ext-Category` | renamed / extended |
//! | analyzer `Category` list rewritten as `Family.PRODUCT` | one clear counterpart: renamed (table below); otherwise `ext-value` with the old text appended to the analyzer's `ext-Category` | renamed / extended |
//! | analyzer `Data`: five values respelt, two retired | respelt ones renamed (table below); `Noise` and `Touch` become `ext-value` with the text appended to `ext-Data` | renamed / extended |
//!
//! Message categories that keep their meaning under a new name:
//!
//! | `2.D.V06` | `2.D.V07` |
//! |---|---|
//! | `Availability.Misconf` | `Availability.Misconfiguration` |
//! | `Meteorological.Fog` | `Meteo.Fog` |
//! | `Hydrological.Flood` | `Hydro.Flood` |
//! | `Hydrological.Landslide` | `Hydro.Landslide` |
//! | `Hydrological.Wave` | `Hydro.Wave` |
//! | `Climatological.Drought` | `Climat.Drought` |
//! | `Climatological.LakeOutburst` | `Climat.LakeOutburst` |
//! | `Climatological.Wildfire` | `Climat.Wildfire` |
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
//! | `2.D.V06` | `2.D.V07` |
//! |---|---|
//! | `1DLiS` | `PHY.1D-LiDAR` |
//! | `2DLiS` | `PHY.2D-LiDAR` |
//! | `3DLiS` | `PHY.3D-LiDAR` |
//! | `1DLaS` | `PHY.1D-LAS` |
//! | `2DLaS` | `PHY.2D-LAS` |
//! | `3DLaS` | `PHY.3D-LAS` |
//! | `VAD` | `PHY.VAD` |
//! | `HAR` | `PHY.HAR` |
//! | `ADS` | `PHY.ADS` |
//! | `VNIR` | `PHY.VNIR` |
//! | `SWIR` | `PHY.SWIR` |
//! | `MWIR` | `PHY.MWIR` |
//! | `LWIR` | `PHY.LWIR` |
//! | `AV` | `END.AV` |
//! | `EDR` | `END.EDR` |
//! | `HIDS` | `END.HIDS` |
//! | `HPT` | `END.HPT` |
//! | `FW` | `NET.FW` |
//! | `NIDS` | `NET.NIDS` |
//! | `WIDS` | `NET.WIDS` |
//! | `WAF` | `NET.WAF` |
//! | `NAC` | `NET.NAC` |
//! | `PROX` | `NET.PROXY` |
//! | `SPAM` | `EMAIL.SPAM-FILTER` |
//! | `IAM` | `ID.IAM` |
//! | `BAST` | `APP.BAST` |
//! | `LOG` | `SIEM.LOG` |
//! | `ETL` | `SIEM.ETL` |
//! | `NMS` | `SIEM.NMS` |
//! | `SIEM` | `SIEM.SIEM` |
//!
//! `FRC`, `ODC`, `DDOS`, `VPN` (no single counterpart) and `RASP` (two
//! candidates, `APP.RASP` and `END.RASP`) are carried as extensions.
//!
//! Analyzer data kinds respelt:
//!
//! | `2.D.V06` | `2.D.V07` |
//! |---|---|
//! | `Vibrations` | `Vibration` |
//! | `Thermic` | `Thermal` |
//! | `MagneticField` | `Magnetic` |
//! | `Auth` | `Authentication` |
//!
//! ## `2.D.V07` → `2.D.V08-Dev`
//!
//! `2.D.V08` was published as `2.D.V08-Dev` first, with the same schema
//! but for `Version`: the changes below reach `2.D.V08-Dev`, and the next
//! step only renames the draft.
//!
//! | change in the draft | what the upgrade does | note |
//! |---|---|---|
//! | `Status` now a list | the text becomes a one-element list | restructured |
//! | category `Recon.Netword` respelt `Recon.Network` | renamed (table below) | renamed |
//! | 41 entity sectors respelt (shorter family or kind names, same meaning) | renamed, one for one (table below) | renamed |
//!
//! (`ID` stopped being required on `Analyzer` and `Sensor`; `ReportTime`
//! and source and target `Category` were added: nothing to do.)
//!
//! Message categories respelt:
//!
//! | `2.D.V07` | `2.D.V08` |
//! |---|---|
//! | `Recon.Netword` | `Recon.Network` |
//!
//! Entity sectors respelt:
//!
//! | `2.D.V07` | `2.D.V08` |
//! |---|---|
//! | `Cemeteries.PublicCemeteries` | `Cemeteries.Public` |
//! | `Chemical.ChemicalProduction` | `Chemical.Production` |
//! | `CivilSociety.ElectionMonitoring` | `Civil.ElectionMonitoring` |
//! | `CivilSociety.HumanitarianAid` | `Civil.HumanitarianAid` |
//! | `CivilSociety.NGOs` | `Civil.NGOs` |
//! | `CivilSociety.Other` | `Civil.Other` |
//! | `CulturalHeritage.Archives` | `Cultural.Archives` |
//! | `CulturalHeritage.HistoricalSites` | `Cultural.HistoricalSites` |
//! | `CulturalHeritage.Libraries` | `Cultural.Libraries` |
//! | `CulturalHeritage.Museums` | `Cultural.Museums` |
//! | `CulturalHeritage.Other` | `Cultural.Other` |
//! | `Defense.CyberDefense` | `Defense.Cyber` |
//! | `Defense.DefenseIndustrialBase` | `Defense.IndustrialBase` |
//! | `Defense.MilitaryInstallations` | `Defense.Installations` |
//! | `EmergencyServices.CivilProtection` | `Emergency.CivilProtection` |
//! | `EmergencyServices.EmergencyMedical` | `Emergency.Medical` |
//! | `EmergencyServices.FireAndRescue` | `Emergency.FireAndRescue` |
//! | `EmergencyServices.Police` | `Emergency.Police` |
//! | `EmergencyServices.Other` | `Emergency.Other` |
//! | `Finance.FinancialMarketInfrastructures` | `Finance.MarketInfrastructures` |
//! | `Manufacturing.ComputerElectronicOptical` | `Manufacturing.Electronic` |
//! | `Manufacturing.StrategicManufacturing` | `Manufacturing.Strategic` |
//! | `MediaAndBroadcasting.BroadcastInfrastructure` | `Media.Infrastructure` |
//! | `MediaAndBroadcasting.OnlineMedia` | `Media.OnlineMedia` |
//! | `MediaAndBroadcasting.Press` | `Media.Press` |
//! | `MediaAndBroadcasting.Radio` | `Media.Radio` |
//! | `MediaAndBroadcasting.Television` | `Media.Television` |
//! | `MediaAndBroadcasting.Other` | `Media.Other` |
//! | `Postal.PostalCourierServices` | `Postal.CourierServices` |
//! | `PublicAdministration.CentralGovernment` | `Administration.CentralGovernment` |
//! | `PublicAdministration.Diplomatic` | `Administration.Diplomatic` |
//! | `PublicAdministration.EmergencyServices` | `Administration.EmergencyServices` |
//! | `PublicAdministration.Judiciary` | `Administration.Judiciary` |
//! | `PublicAdministration.LocalGovernment` | `Administration.Local` |
//! | `PublicAdministration.Other` | `Administration.Other` |
//! | `ReligiousSites.PilgrimageSites` | `Religious.PilgrimageSites` |
//! | `ReligiousSites.PlacesOfWorship` | `Religious.PlacesOfWorship` |
//! | `ReligiousSites.Other` | `Religious.Other` |
//! | `Waste.HazardousWaste` | `Waste.Hazardous` |
//! | `Waste.NonHazardousWaste` | `Waste.NonHazardous` |
//! | `Waste.NuclearWaste` | `Waste.Nuclear` |
//!
//! ## `2.D.V08-Dev` → `2.D.V08`
//!
//! Only `Version` differs.
//!
//! ## `2.D.V08` → `2.D.V09-Dev`
//!
//! Only `Version` differs.
//!
//! A message already at the target draft comes back unchanged with an empty
//! report; a message newer than the target is refused.

mod repair;
mod step;
mod v04;
mod v06;
mod v07;
mod v08;

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    json, validate,
    validation::{self, explain_value},
    Draft, Error, Limits, Message, Result, Version, Violation, ViolationKind,
};
use step::Change;

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
    /// A single text where the schema wants a list of texts, made a
    /// one-element list; only with [`Options::repair`].
    Repaired,
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoteKind::Renamed => "renamed",
            NoteKind::Restructured => "restructured",
            NoteKind::Extended => "extended",
            NoteKind::Invented => "invented",
            NoteKind::Dropped => "dropped",
            NoteKind::Repaired => "repaired",
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

/// A message repaired under its own draft, not carried anywhere: what
/// [`repair`] gives.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Repaired {
    /// The draft the message was written in, and still is.
    pub draft: Draft,
    /// The repaired message, valid under `draft`.
    pub message: Value,
    /// Every repair ([`NoteKind::Repaired`]); empty when the message needed
    /// none.
    pub report: Vec<UpgradeNote>,
}

/// Makes the repairs of [`Options::repair`] (see [Repair](Options#repair))
/// on a message of any supported draft, under the rules of the draft its
/// `Version` names, and checks the result against that draft's schema;
/// the draft stays. A message still invalid after the repairs gives the
/// errors of the repaired message (a wrapped text at index 0 of its list).
///
/// ```
/// let sent = serde_json::json!({
///     "Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
///     "CreateTime": "2021-05-01T10:00:00Z",
///     "Analyzer": {"Name": "suricata", "IP": "192.0.2.1", "Type": "Cyber"}
/// });
/// let repaired = idmefv2::upgrade::repair(&sent)?;
/// assert_eq!(repaired.draft.as_str(), "2.D.V04");
/// assert_eq!(repaired.message["Analyzer"]["Type"], serde_json::json!(["Cyber"]));
/// assert_eq!(repaired.report[0].pointer, "/Analyzer/Type");
/// # Ok::<(), idmefv2::Error>(())
/// ```
pub fn repair(message: &Value) -> Result<Repaired> {
    let Some(draft) = own_draft(message) else {
        validate(message)?;
        return Err(validation::unsupported(message));
    };
    let mut copy = message.clone();
    let mut report = Vec::new();
    repair::repair(draft, "", &mut copy, "", &mut report);
    validate(&copy)?;
    Ok(Repaired {
        draft,
        message: copy,
        report,
    })
}

/// Carries a message of any supported draft to the latest stable draft,
/// [`Version::LATEST`].
///
/// The message is first checked against the schema of its own draft; a
/// failure there is returned as is ([`Error::Invalid`] or
/// [`Error::UnsupportedVersion`]). A valid message that cannot be carried
/// forward gives [`Error::Upgrade`].
pub fn upgrade_latest(message: &Value) -> Result<Upgraded> {
    Options::default().upgrade(message)
}

/// Carries a message of any supported draft to `target`.
///
/// Attachment content in the upgraded message is bounded by the default
/// [`Limits::max_depth`]; [`upgrade_slice`] takes explicit limits.
pub fn upgrade_to(message: &Value, target: Version) -> Result<Upgraded> {
    Options::default().target(target).upgrade(message)
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
pub fn upgrade_slice(bytes: &[u8], limits: &Limits, target: Version) -> Result<Upgraded> {
    Options::default()
        .target(target)
        .limits(*limits)
        .upgrade_slice(bytes)
}

/// How to upgrade: the draft to reach, whether to repair, and the limits
/// on input. The functions above are its defaults with a target.
///
/// # Repair
///
/// Deployed senders often write a single text where their draft's schema
/// wants a list of texts (`"Type": "Cyber"` in a `2.D.V04` analyzer,
/// `"Category": "Recon.Scanning"`, `"Status": "Incident"` in `2.D.V08`).
/// With [`repair`](Options::repair) on, and only then, each such text is
/// made a list of that one text before the message is checked against its
/// own draft, and each repair is reported with [`NoteKind::Repaired`]. The
/// places are found in the schema of the draft whose rules apply (every
/// member whose schema is a list of texts, at any depth), never listed by
/// hand. No other fix is attempted; a message still invalid after the
/// repairs is refused as usual. Errors, and the notes of the steps after
/// the repairs, point into the repaired message (a wrapped text at index
/// 0 of its list). A message already at the target that needs only
/// repairs is carried like any other.
///
/// ```
/// use idmefv2::upgrade::{NoteKind, Options};
///
/// # fn main() -> Result<(), idmefv2::Error> {
/// let sent = serde_json::json!({
///     "Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
///     "CreateTime": "2021-05-01T10:00:00Z", "Category": "Recon.Scanning",
///     "Analyzer": {"Name": "suricata", "IP": "192.0.2.1", "Type": "Cyber"}
/// });
/// assert!(idmefv2::upgrade::upgrade_latest(&sent).is_err());
/// let upgraded = Options::default().repair(true).upgrade(&sent)?;
/// let repaired: Vec<&str> = upgraded
///     .report
///     .iter()
///     .filter(|n| n.kind == NoteKind::Repaired)
///     .map(|n| n.pointer.as_str())
///     .collect();
/// assert_eq!(repaired, ["/Analyzer/Type", "/Category"]);
/// assert_eq!(upgraded.message.to_value()["Type"], serde_json::json!(["Cyber"]));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The draft to carry messages to; [`Version::LATEST`] by default.
    pub target: Version,
    /// Whether to repair single texts where lists of texts are wanted;
    /// off by default.
    pub repair: bool,
    /// The limits on input: the byte limit for [`Options::upgrade_slice`],
    /// the depth of attachment content for both.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: Version::LATEST,
            repair: false,
            limits: Limits::default(),
        }
    }
}

impl Options {
    /// These options with another target draft.
    #[must_use]
    pub fn target(mut self, target: Version) -> Self {
        self.target = target;
        self
    }

    /// These options with repair on or off (see [Repair](Options#repair)).
    #[must_use]
    pub fn repair(mut self, repair: bool) -> Self {
        self.repair = repair;
        self
    }

    /// These options with other limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Carries `message` to the target draft.
    pub fn upgrade(&self, message: &Value) -> Result<Upgraded> {
        let to = self.target.as_str();
        let (value, from, report) = carry(message, self.target.draft(), self.repair)?;
        // Straight from the value (no encoding and parsing again); the
        // message is written in the specification's member order.
        let typed = {
            let _budget = json::DepthBudget::set(self.limits.max_depth);
            Message::deserialize(&value)
        };
        let message = typed.map_err(|e| {
            let refused =
                explain_value(&value, Violation::new(ViolationKind::Model, e.to_string()));
            Error::Upgrade {
                from: from.as_str().to_string(),
                to,
                violations: refused.violations().into_owned().into(),
            }
        })?;
        Ok(Upgraded {
            from: from.as_str(),
            message,
            report,
        })
    }

    /// Reads one encoded JSON message under the limits (size, nesting,
    /// duplicate members refused) and carries it to the target draft.
    pub fn upgrade_slice(&self, bytes: &[u8]) -> Result<Upgraded> {
        let limits = &self.limits;
        if bytes.len() > limits.max_bytes {
            return Err(Error::TooLarge {
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        let value = json::parse_value(bytes, limits.document_depth(), limits.max_depth)?;
        self.upgrade(&value)
    }
}

/// What it takes to reach a draft from the one before it.
enum Step {
    /// The first draft: nothing comes before it.
    First,
    /// Only `Version` differs from the draft before (a test holds the two
    /// schemas equal otherwise).
    VersionOnly,
    /// The changes of the step's module.
    Changes(&'static Changes),
}

/// One step module: what it does, and the value lists it rewrites (as
/// data, for the tests that hold them to the schemas and to the docs).
struct Changes {
    apply: fn(&mut Change<'_>, &mut Map<String, Value>),
    maps: &'static [step::ValueMap],
}

/// The step that reaches each draft: an exhaustive match, so that a draft
/// added to `schema/` does not build until its step is given here.
fn step_to(draft: Draft) -> Step {
    match draft {
        Draft::V02 => Step::First,
        Draft::V03 => Step::VersionOnly,
        Draft::V04 => Step::Changes(&v04::STEP),
        Draft::V05 => Step::VersionOnly,
        Draft::V06 => Step::Changes(&v06::STEP),
        Draft::V07 => Step::Changes(&v07::STEP),
        // 2.D.V08 was first published as 2.D.V08-Dev: the changes of V08
        // reach the development name, and the release renames it.
        Draft::V08Dev => Step::Changes(&v08::STEP),
        Draft::V08 => Step::VersionOnly,
        Draft::V09Dev => Step::VersionOnly,
    }
}

/// Repairs `message` when asked, validates it under its own draft and
/// applies every step up to `to`, returning the untyped result, the
/// original draft and the notes.
fn carry(message: &Value, to: Draft, repair: bool) -> Result<(Value, Draft, Vec<UpgradeNote>)> {
    let mut notes = Vec::new();
    let repaired;
    let message = match own_draft(message) {
        Some(draft) if repair => {
            let mut copy = message.clone();
            repair::repair(draft, "", &mut copy, "", &mut notes);
            repaired = copy;
            &repaired
        }
        _ => message,
    };
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
                ViolationKind::Version,
                "the message is newer than the target draft; going back is not supported",
            )
            .at("/Version")]
            .into(),
        });
    }
    let mut object = message.as_object().cloned().unwrap_or_default();
    for draft in Draft::ALL.into_iter().filter(|d| *d > from && *d <= to) {
        match step_to(draft) {
            Step::First | Step::VersionOnly => {}
            Step::Changes(changes) => {
                let mut change = Change::new(draft, draft == to, repair, changes.maps, &mut notes)
                    .named(release_within(draft, to));
                (changes.apply)(&mut change, &mut object);
            }
        }
    }
    object.insert("Version".into(), Value::String(to.as_str().into()));
    Ok((Value::Object(object), from, notes))
}

/// The draft a step's notes name: the release of a development name (the
/// draft after it, `2.D.V08` for `2.D.V08-Dev`, which only renames it)
/// when the upgrade goes as far, so that an upgrade to the release names
/// the release; `draft` otherwise.
fn release_within(draft: Draft, to: Draft) -> Draft {
    Draft::ALL
        .into_iter()
        .find(|d| *d > draft && *d <= to && draft.as_str().strip_suffix("-Dev") == Some(d.as_str()))
        .filter(|d| matches!(step_to(*d), Step::VersionOnly))
        .unwrap_or(draft)
}

/// The draft a message names, if it names one this crate knows.
fn own_draft(message: &Value) -> Option<Draft> {
    message.get("Version")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests;
