//! `2.D.V07` → `2.D.V08`: `Status` becomes a list, one category and 41
//! entity sectors are respelt.

use serde_json::{Map, Value};

use super::step::{Change, ValueMap};
use super::{Changes, NoteKind};

/// Message categories respelt.
const CATEGORY: &[(&str, &str)] = &[("Recon.Netword", "Recon.Network")];

/// Entity sectors respelt: shorter family or kind names, same meaning.
const ENTITY_SECTOR: &[(&str, &str)] = &[
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

/// The value lists this step rewrites, in the order it rewrites them.
const MAPS: [ValueMap; 2] = [
    ValueMap {
        in_analyzer: false,
        member: "Category",
        definition: "Category",
        renames: CATEGORY,
        extension: None,
    },
    ValueMap {
        in_analyzer: false,
        member: "EntitySector",
        definition: "EntitySector",
        renames: ENTITY_SECTOR,
        extension: None,
    },
];

/// The step, for the table in `mod.rs`.
pub(super) const STEP: Changes = Changes { apply, maps: &MAPS };

fn apply(change: &mut Change<'_>, m: &mut Map<String, Value>) {
    if let Some(status) = m.get_mut("Status") {
        if status.is_string() {
            let old = status.take();
            *status = Value::Array(vec![old.clone()]);
            let reason = format!("{} makes Status a list of states", change.draft_named());
            change
                .note(NoteKind::Restructured, "/Status", reason)
                .value(old)
                .moved_to("/Status/0");
        }
    }
    change.rewrite_value_lists(m);
}
