//! The Rust name of each value of a value list.
//!
//! One rule for every list: the value is cut into words, and each word is
//! written with its first character in upper case and the rest in lower
//! case. Acronyms and other runs of capitals thus count as one word, as the
//! Rust API guidelines ask (`Uuid`, not `UUID`): `Availability.DDoS` is
//! `AvailabilityDdos`, `Theft.IP` is `TheftIp`, `PHY.3D-LiDAR` is
//! `Phy3dLidar`, `Civil.NGOs` is `CivilNgos`.
//!
//! Words are separated by any character other than an ASCII letter or
//! digit (`.` and `-` in the schema's values), and inside a run of letters
//! and digits at an upper-case letter that either follows two lower-case
//! letters (`Heart|Beat`, `XOrig|IP`) or is followed by two
//! (`SQL|Query`, `pH|Level`), unless the word before it would be a single
//! letter (`OAuth|App`, `XOrig|IP`). A capital with a single lower-case
//! letter on each side (`DDoS`, `IoT`, `LiDAR`, `NGOs`) starts no word, so
//! the mixed spellings of acronyms stay whole.

/// The Rust name of the value `text`.
pub fn variant_name(text: &str) -> String {
    let mut name = String::new();
    for part in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        for word in words(part) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                name.push(first.to_ascii_uppercase());
                name.extend(chars.map(|c| c.to_ascii_lowercase()));
            }
        }
    }
    assert!(
        name.starts_with(|c: char| c.is_ascii_alphabetic()),
        "the value {text:?} gives no Rust name that starts with a letter"
    );
    name
}

/// The words of a run of ASCII letters and digits.
fn words(part: &str) -> Vec<&str> {
    let bytes = part.as_bytes();
    let lower = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_lowercase);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        if !bytes[i].is_ascii_uppercase() {
            continue;
        }
        let after_word = i >= 2 && lower(i - 1) && lower(i - 2);
        let starts_word = lower(i + 1) && lower(i + 2);
        if (after_word || starts_word) && i - start >= 2 {
            out.push(&part[start..i]);
            start = i;
        }
    }
    if start < part.len() {
        out.push(&part[start..]);
    }
    out
}
