//! The OCSF Detection Finding of a message.

use serde_json::{json, Map, Value};

use super::{address, address_text, epoch_millis, instant, percent, port, put, texts, title};
use crate::{types::Priority, Message, Result};

/// The class, category, activity and type numbers of a Detection Finding
/// being created.
pub(crate) const CLASS_UID: u32 = 2004;
pub(crate) const CATEGORY_UID: u32 = 2;
pub(crate) const ACTIVITY_ID: u32 = 1;
pub(crate) const TYPE_UID: u32 = CLASS_UID * 100 + ACTIVITY_ID;

/// OCSF's `severity_id` and its caption for an IDMEFv2 `Priority`.
pub(crate) fn severity(priority: Option<Priority>) -> (u8, &'static str) {
    match priority {
        None | Some(Priority::Unknown) => (0, "Unknown"),
        Some(Priority::Info) => (1, "Informational"),
        Some(Priority::Low) => (2, "Low"),
        Some(Priority::Medium) => (3, "Medium"),
        Some(Priority::High) => (4, "High"),
    }
}

/// One network endpoint of an evidence: `uid` the source or target `ID`,
/// `ip`, `hostname`, and `port` when the IDMEFv2 object names exactly one
/// (several go to the evidence's `data.ports`).
fn endpoint(
    id: &crate::Id,
    ip: Option<&crate::types::IpAddress>,
    hostname: Option<&str>,
    ports: Option<&Vec<crate::types::Integer>>,
    pointer: &str,
    invented: &[&str],
) -> Result<(Value, Option<Value>)> {
    let mut out = Map::new();
    if !invented.contains(&format!("{pointer}/ID").as_str()) {
        out.insert("uid".into(), json!(id.as_str()));
    }
    if let Some(ip) = ip {
        let parsed = address(ip.as_str(), &format!("{pointer}/IP"))?;
        out.insert("ip".into(), json!(address_text(parsed)));
    }
    put(&mut out, "hostname", hostname.map(|h| json!(h)));
    let mut numbers = Vec::new();
    for (i, p) in ports.into_iter().flatten().enumerate() {
        numbers.push(port(p, &format!("{pointer}/Port/{i}"))?);
    }
    let data = match numbers.as_slice() {
        [] => None,
        [one] => {
            out.insert("port".into(), json!(one));
            None
        }
        several => Some(json!({ "ports": several })),
    };
    Ok((Value::Object(out), data))
}

/// The finding; `invented` lists the pointers of IDs an upgrade made up,
/// which are left out.
pub(crate) fn finding(message: &Message, raw: String, invented: &[&str]) -> Result<Value> {
    let created = epoch_millis(instant(&message.create_time, "/CreateTime")?);
    let start = match &message.start_time {
        Some(t) => Some(epoch_millis(instant(t, "/StartTime")?)),
        None => None,
    };
    let end = match &message.end_time {
        Some(t) => Some(epoch_millis(instant(t, "/EndTime")?)),
        None => None,
    };
    let (severity_id, severity) = severity(message.priority);

    let mut info = Map::new();
    info.insert("uid".into(), json!(message.id.as_str()));
    info.insert("title".into(), json!(title(message)));
    put(
        &mut info,
        "desc",
        message.description.as_deref().map(|d| json!(d)),
    );
    put(
        &mut info,
        "types",
        message
            .category
            .as_ref()
            .map(|c| texts(c.iter().map(|c| c.as_str()))),
    );
    info.insert("created_time".into(), json!(created));
    put(&mut info, "first_seen_time", start.map(|t| json!(t)));
    put(&mut info, "last_seen_time", end.map(|t| json!(t)));

    let analyzer = &message.analyzer;
    let mut product = Map::new();
    product.insert("name".into(), json!(analyzer.name));
    // IDMEFv2 has no vendor of its own: `Model` says product, vendor and
    // version in free text; without it the analyzer's name stands in.
    product.insert(
        "vendor_name".into(),
        json!(analyzer.model.as_deref().unwrap_or(&analyzer.name)),
    );
    put(
        &mut product,
        "uid",
        analyzer.id.as_ref().map(|id| json!(id.as_str())),
    );

    let mut evidences = Vec::new();
    for (i, s) in message.source.iter().flatten().enumerate() {
        let (endpoint, data) = endpoint(
            &s.id,
            s.ip.as_ref(),
            s.hostname.as_deref(),
            s.port.as_ref(),
            &format!("/Source/{i}"),
            invented,
        )?;
        let mut evidence = Map::new();
        evidence.insert("src_endpoint".into(), endpoint);
        put(&mut evidence, "data", data);
        evidences.push(Value::Object(evidence));
    }
    for (i, t) in message.target.iter().flatten().enumerate() {
        let (endpoint, data) = endpoint(
            &t.id,
            t.ip.as_ref(),
            t.hostname.as_deref(),
            t.port.as_ref(),
            &format!("/Target/{i}"),
            invented,
        )?;
        let mut evidence = Map::new();
        evidence.insert("dst_endpoint".into(), endpoint);
        put(&mut evidence, "data", data);
        evidences.push(Value::Object(evidence));
    }

    let mut out = Map::new();
    out.insert("activity_id".into(), json!(ACTIVITY_ID));
    out.insert("activity_name".into(), json!("Create"));
    out.insert("category_uid".into(), json!(CATEGORY_UID));
    out.insert("category_name".into(), json!("Findings"));
    out.insert("class_uid".into(), json!(CLASS_UID));
    out.insert("class_name".into(), json!("Detection Finding"));
    out.insert("type_uid".into(), json!(TYPE_UID));
    out.insert("type_name".into(), json!("Detection Finding: Create"));
    out.insert("time".into(), json!(created));
    out.insert("severity_id".into(), json!(severity_id));
    out.insert("severity".into(), json!(severity));
    put(
        &mut out,
        "confidence_score",
        percent(message).map(|p| json!(p)),
    );
    put(&mut out, "start_time", start.map(|t| json!(t)));
    put(&mut out, "end_time", end.map(|t| json!(t)));
    put(
        &mut out,
        "message",
        message.description.as_deref().map(|d| json!(d)),
    );
    out.insert(
        "metadata".into(),
        json!({ "version": super::OCSF_VERSION, "product": product }),
    );
    out.insert("finding_info".into(), Value::Object(info));
    if !evidences.is_empty() {
        out.insert("evidences".into(), Value::Array(evidences));
    }
    out.insert("raw_data".into(), json!(raw));
    Ok(Value::Object(out))
}
