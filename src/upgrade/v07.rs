//! `2.D.V06` → `2.D.V07`: analyzer `Type` moves to the message, `ext-*`
//! texts become lists, `ID` becomes required on sources and targets,
//! `Vector` goes, and the category and data lists are rewritten.

use serde_json::{Map, Value};

use super::step::{Change, Extension, ValueMap};
use super::{Changes, NoteKind};

/// Message categories that keep their meaning under a new name.
const CATEGORY: &[(&str, &str)] = &[
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

/// Analyzer categories with one clear counterpart in the new
/// `Family.PRODUCT` list.
const ANALYZER_CATEGORY: &[(&str, &str)] = &[
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

/// Analyzer data kinds respelt.
const ANALYZER_DATA: &[(&str, &str)] = &[
    ("Vibrations", "Vibration"),
    ("Thermic", "Thermal"),
    ("MagneticField", "Magnetic"),
    ("Auth", "Authentication"),
];

/// The value lists this step rewrites, in the order it rewrites them.
const MAPS: [ValueMap; 3] = [
    ValueMap {
        in_analyzer: false,
        member: "Category",
        definition: "Category",
        renames: CATEGORY,
        extension: Some(Extension {
            entry: "Other.ext-value",
            member: "ext-Category",
        }),
    },
    ValueMap {
        in_analyzer: true,
        member: "Category",
        definition: "AnalyzerCategory",
        renames: ANALYZER_CATEGORY,
        extension: Some(Extension {
            entry: "ext-value",
            member: "ext-Category",
        }),
    },
    ValueMap {
        in_analyzer: true,
        member: "Data",
        definition: "AnalyzerData",
        renames: ANALYZER_DATA,
        extension: Some(Extension {
            entry: "ext-value",
            member: "ext-Data",
        }),
    },
];

/// The step, for the table in `mod.rs`.
pub(super) const STEP: Changes = Changes { apply, maps: &MAPS };

fn apply(change: &mut Change<'_>, m: &mut Map<String, Value>) {
    // Reshape before any value is appended to an extension list.
    change.text_to_list(m, "", "ext-Category");
    if let Some(Value::Object(analyzer)) = m.get_mut("Analyzer") {
        for member in ["ext-Category", "ext-Data", "ext-Method"] {
            change.text_to_list(analyzer, "/Analyzer", member);
        }
    }
    let types = m
        .get_mut("Analyzer")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.remove("Type"));
    if let Some(types) = types {
        m.insert("Type".into(), types.clone());
        let reason = format!(
            "{} describes the incident's nature in the message-level `Type`",
            change.draft_named()
        );
        change
            .note(NoteKind::Restructured, "/Analyzer/Type", reason)
            .value(types)
            .moved_to("/Type");
    }
    if let Some(vector) = m.remove("Vector") {
        let reason = format!(
            "{} removed the Vector class and has no counterpart",
            change.draft_named()
        );
        change
            .note(NoteKind::Dropped, "/Vector", reason)
            .value(vector);
    }
    change.rewrite_value_lists(m);
    // `2.D.V08` lifts the requirement of an analyzer and sensor ID again, so
    // those are made up only when this draft is the target.
    if change.is_last() {
        if let Some(Value::Object(analyzer)) = m.get_mut("Analyzer") {
            change.invent_id(analyzer, "/Analyzer");
        }
    }
    for (class, always) in [("Sensor", false), ("Source", true), ("Target", true)] {
        if !(always || change.is_last()) {
            continue;
        }
        if let Some(Value::Array(items)) = m.get_mut(class) {
            for (i, item) in items.iter_mut().enumerate() {
                if let Value::Object(item) = item {
                    change.invent_id(item, &format!("/{class}/{i}"));
                }
            }
        }
    }
}
