//! The STIX 2.1 bundle of a message.

use std::net::IpAddr;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{address, address_text, id_text, instant, percent, port, stix_time, title};
use crate::{Error, Message, Result};

/// STIX's namespace for the ids of cyber-observable objects (STIX 2.1,
/// section 2.9): with it, the same address gets the same id whoever
/// writes it.
pub(crate) const SCO_NAMESPACE: Uuid = uuid::uuid!("00abedb4-aa42-566c-9dc6-8a5d8a7b9e7c");

/// This crate's namespace for the ids of analyzer identities, which do not
/// depend on the message.
const IDENTITY_NAMESPACE: Uuid = uuid::uuid!("3212c6e1-fba5-41bf-be8c-dec2ce6e8b67");

/// A STIX hash algorithm of the `hash-algorithm-ov` vocabulary and the
/// length of its digest in hexadecimal digits, by the IDMEFv2 algorithm
/// name folded to lowercase without `-` and `_`.
const HASHES: [(&str, &str, usize); 6] = [
    ("md5", "MD5", 32),
    ("sha1", "SHA-1", 40),
    ("sha256", "SHA-256", 64),
    ("sha512", "SHA-512", 128),
    ("sha3256", "SHA3-256", 64),
    ("sha3512", "SHA3-512", 128),
];

/// The order in which STIX picks one hash for a file's id.
const ID_HASHES: [&str; 4] = ["MD5", "SHA-1", "SHA-256", "SHA-512"];

/// JSON in the canonical form of RFC 8785 for the values STIX ids are
/// made from (texts, whole numbers, lists, objects): members sorted, no
/// spaces.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
pub(crate) fn canonical_for_tests(value: &Value, out: &mut String) {
    canonical(value, out)
}

/// The cyber-observable objects of a bundle, each once, in the order met.
#[derive(Default)]
struct Observables {
    objects: Vec<Value>,
}

impl Observables {
    /// Adds an object of `kind` with `properties`, its id made from the
    /// members named in `contributing`; gives the id.
    fn add(&mut self, kind: &str, properties: Map<String, Value>, contributing: &[&str]) -> String {
        let mut basis = Map::new();
        for key in contributing {
            if let Some(v) = properties.get(*key) {
                basis.insert((*key).to_string(), v.clone());
            }
        }
        if kind == "file" {
            if let Some(Value::Object(hashes)) = properties.get("hashes") {
                if let Some(name) = ID_HASHES.iter().find(|n| hashes.contains_key(**n)) {
                    basis.insert("hashes".into(), json!({ *name: hashes[*name] }));
                }
            }
        }
        let mut text = String::new();
        canonical(&Value::Object(basis), &mut text);
        let id = format!("{kind}--{}", Uuid::new_v5(&SCO_NAMESPACE, text.as_bytes()));
        if !self.objects.iter().any(|o| o["id"] == id.as_str()) {
            let mut object = Map::new();
            object.insert("type".into(), json!(kind));
            object.insert("spec_version".into(), json!(super::STIX_VERSION));
            object.insert("id".into(), json!(id));
            object.extend(properties);
            self.objects.push(Value::Object(object));
        }
        id
    }

    fn value(&mut self, kind: &str, value: &str) -> String {
        let mut p = Map::new();
        p.insert("value".into(), json!(value));
        self.add(kind, p, &["value"])
    }
}

/// Whether `name` is a DNS host name (letters, digits and hyphens in
/// labels of 1 to 63, 253 at most), which STIX's `domain-name` holds;
/// IDMEFv2 host names are free text.
fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// What one source or target contributes to the network traffic.
struct Side {
    address: Option<(String, IpAddr)>,
    port: Option<u16>,
    protocols: Vec<String>,
}

pub(crate) fn bundle(message: &Message) -> Result<Value> {
    let created = stix_time(instant(&message.create_time, "/CreateTime")?);
    let first = match &message.start_time {
        Some(t) => Some(instant(t, "/StartTime")?),
        None => None,
    };
    let last = match &message.end_time {
        Some(t) => Some(instant(t, "/EndTime")?),
        None => None,
    };
    if let (Some(first), Some(last)) = (first, last) {
        if last < first {
            return Err(Error::Export {
                pointer: "/EndTime".into(),
                reason: "before StartTime, and a STIX observation cannot end before it begins"
                    .into(),
            });
        }
    }
    let namespace = message.id.to_uuid();
    let local =
        |kind: &str, name: &str| format!("{kind}--{}", Uuid::new_v5(&namespace, name.as_bytes()));

    let analyzer = &message.analyzer;
    let identity_key = match &analyzer.id {
        Some(id) => format!("ID {}", id_text(id)),
        None => format!("Name {}", analyzer.name),
    };
    let identity_id = format!(
        "identity--{}",
        Uuid::new_v5(&IDENTITY_NAMESPACE, identity_key.as_bytes())
    );
    let mut identity = Map::new();
    identity.insert("type".into(), json!("identity"));
    identity.insert("spec_version".into(), json!(super::STIX_VERSION));
    identity.insert("id".into(), json!(identity_id));
    identity.insert("created".into(), json!(created));
    identity.insert("modified".into(), json!(created));
    identity.insert("name".into(), json!(analyzer.name));
    identity.insert("identity_class".into(), json!("system"));
    if let Some(model) = &analyzer.model {
        identity.insert("description".into(), json!(model));
    }

    let incident_id = local("incident", "incident");
    let mut incident = Map::new();
    incident.insert("type".into(), json!("incident"));
    incident.insert("spec_version".into(), json!(super::STIX_VERSION));
    incident.insert("id".into(), json!(incident_id));
    incident.insert("created_by_ref".into(), json!(identity_id));
    incident.insert("created".into(), json!(created));
    incident.insert("modified".into(), json!(created));
    incident.insert("name".into(), json!(title(message)));
    if let Some(d) = &message.description {
        incident.insert("description".into(), json!(d));
    }
    if let Some(categories) = message.category.as_ref().filter(|c| !c.is_empty()) {
        let labels: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
        incident.insert("labels".into(), json!(labels));
    }
    if let Some(p) = percent(message) {
        incident.insert("confidence".into(), json!(p));
    }
    incident.insert(
        "external_references".into(),
        json!([{
            "source_name": super::STIX_SOURCE_NAME,
            "external_id": message.id.as_str(),
        }]),
    );

    let mut scos = Observables::default();
    let mut sides: [Vec<Side>; 2] = [Vec::new(), Vec::new()];
    let sources = message.source.iter().flatten().map(|s| {
        (
            "Source",
            s.ip.as_ref(),
            s.hostname.as_deref(),
            s.email.as_ref(),
            s.port.as_ref(),
            s.protocol.as_ref(),
        )
    });
    let targets = message.target.iter().flatten().map(|t| {
        (
            "Target",
            t.ip.as_ref(),
            t.hostname.as_deref(),
            t.email.as_ref(),
            t.port.as_ref(),
            None,
        )
    });
    let mut index = [0usize; 2];
    for (class, ip, hostname, email, ports, protocols) in sources.chain(targets) {
        let side = usize::from(class == "Target");
        let pointer = format!("/{class}/{}", index[side]);
        index[side] += 1;
        let address = match ip {
            Some(ip) => {
                let parsed = address(ip.as_str(), &format!("{pointer}/IP"))?;
                let kind = if parsed.is_ipv4() {
                    "ipv4-addr"
                } else {
                    "ipv6-addr"
                };
                Some((scos.value(kind, &address_text(parsed)), parsed))
            }
            None => None,
        };
        if let Some(h) = hostname.filter(|h| is_dns_name(h)) {
            scos.value("domain-name", h);
        }
        if let Some(e) = email {
            scos.value("email-addr", e.as_str());
        }
        let mut numbers = Vec::new();
        for (i, p) in ports.into_iter().flatten().enumerate() {
            numbers.push(port(p, &format!("{pointer}/Port/{i}"))?);
        }
        let protocols = protocols
            .into_iter()
            .flatten()
            .map(|p| p.as_str().to_ascii_lowercase())
            .collect();
        sides[side].push(Side {
            address,
            port: (numbers.len() == 1).then(|| numbers[0]),
            protocols,
        });
    }
    // Network traffic: every source with an address towards every target
    // with one; a side without any address gives traffic of the other
    // side's entries alone.
    let [from, to] = sides;
    let from: Vec<&Side> = from.iter().filter(|s| s.address.is_some()).collect();
    let to: Vec<&Side> = to.iter().filter(|s| s.address.is_some()).collect();
    let pairs: Vec<(Option<&Side>, Option<&Side>)> = match (from.is_empty(), to.is_empty()) {
        (true, true) => Vec::new(),
        (false, true) => from.iter().map(|s| (Some(*s), None)).collect(),
        (true, false) => to.iter().map(|t| (None, Some(*t))).collect(),
        (false, false) => from
            .iter()
            .flat_map(|s| to.iter().map(move |t| (Some(*s), Some(*t))))
            .collect(),
    };
    for (src, dst) in pairs {
        let mut p = Map::new();
        if let Some(s) = src {
            p.insert("src_ref".into(), json!(s.address.as_ref().map(|a| &a.0)));
            if let Some(port) = s.port {
                p.insert("src_port".into(), json!(port));
            }
        }
        if let Some(d) = dst {
            p.insert("dst_ref".into(), json!(d.address.as_ref().map(|a| &a.0)));
            if let Some(port) = d.port {
                p.insert("dst_port".into(), json!(port));
            }
        }
        // The protocols the source names; without any, the IP version of
        // the addresses, which is all the alert says of the traffic.
        let mut protocols: Vec<String> = src.map(|s| s.protocols.clone()).unwrap_or_default();
        if protocols.is_empty() {
            let ip = src.or(dst).and_then(|s| s.address.as_ref()).map(|a| a.1);
            protocols.push(
                if matches!(ip, Some(IpAddr::V6(_))) {
                    "ipv6"
                } else {
                    "ipv4"
                }
                .into(),
            );
        }
        p.insert("protocols".into(), json!(protocols));
        scos.add(
            "network-traffic",
            p,
            &["src_ref", "dst_ref", "src_port", "dst_port", "protocols"],
        );
    }
    for uri in message.ref_.iter().flatten() {
        scos.value("url", uri.as_str());
    }
    for (i, a) in message.attachment.iter().flatten().enumerate() {
        let pointer = format!("/Attachment/{i}");
        for uri in a
            .ref_
            .iter()
            .flatten()
            .chain(a.external_uri.iter().flatten())
        {
            scos.value("url", uri.as_str());
        }
        let mut hashes = Map::new();
        for (j, h) in a.hash.iter().flatten().enumerate() {
            let (algorithm, digest) = h.as_str().split_once(':').unwrap_or(("", h.as_str()));
            let folded: String = algorithm
                .chars()
                .filter(|c| *c != '-' && *c != '_')
                .collect::<String>()
                .to_ascii_lowercase();
            let key = match HASHES.iter().find(|(name, _, _)| *name == folded) {
                Some((_, stix, len)) if digest.len() == *len => (*stix).to_string(),
                _ => format!("x_{}", algorithm.to_ascii_lowercase()),
            };
            if hashes.insert(key, json!(digest)).is_some() {
                return Err(Error::Export {
                    pointer: format!("{pointer}/Hash/{j}"),
                    reason: "a second digest of the same algorithm, which a STIX file's hashes \
                             cannot hold"
                        .into(),
                });
            }
        }
        if hashes.is_empty() && a.file_name.is_none() {
            continue;
        }
        let mut p = Map::new();
        if let Some(name) = &a.file_name {
            p.insert("name".into(), json!(name));
        }
        if !hashes.is_empty() {
            p.insert("hashes".into(), Value::Object(hashes));
        }
        if let Some(size) = &a.size {
            let bytes = size
                .as_u64()
                .filter(|n| i64::try_from(*n).is_ok())
                .ok_or_else(|| Error::Export {
                    pointer: format!("{pointer}/Size"),
                    reason: "a STIX file size is a whole number from 0 to 2^63-1".into(),
                })?;
            p.insert("size".into(), json!(bytes));
        }
        scos.add("file", p, &["hashes", "name"]);
    }

    let mut objects = vec![Value::Object(identity), Value::Object(incident)];
    let sco_ids: Vec<String> = scos
        .objects
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_string))
        .collect();
    let mut related = Vec::new();
    objects.append(&mut scos.objects);
    if !sco_ids.is_empty() {
        let observed_id = local("observed-data", "observed-data");
        // The span the alert gives, as far as it gives one.
        let first_observed = first
            .or(last)
            .map(stix_time)
            .unwrap_or_else(|| created.clone());
        let last_observed = last
            .or(first)
            .map(stix_time)
            .unwrap_or_else(|| created.clone());
        objects.push(json!({
            "type": "observed-data",
            "spec_version": super::STIX_VERSION,
            "id": observed_id,
            "created_by_ref": identity_id,
            "created": created,
            "modified": created,
            "first_observed": first_observed,
            "last_observed": last_observed,
            "number_observed": 1,
            "object_refs": sco_ids,
        }));
        related.push(observed_id);
        related.extend(sco_ids);
    }
    for target in related {
        objects.push(json!({
            "type": "relationship",
            "spec_version": super::STIX_VERSION,
            "id": local("relationship", &format!("related-to {target}")),
            "created_by_ref": identity_id,
            "created": created,
            "modified": created,
            "relationship_type": "related-to",
            "source_ref": incident_id,
            "target_ref": target,
        }));
    }
    Ok(json!({
        "type": "bundle",
        "id": local("bundle", "bundle"),
        "objects": objects,
    }))
}
