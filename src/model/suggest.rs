//! The closest valid spellings of a refused name, so that an error can say
//! what was meant: the refusals of value lists (by typed decoding, by
//! `FromStr` and by schema validation alike), of unknown members and of
//! unknown names in IDMEF paths.
//!
//! Only names the schema lists are ever suggested, so a suggestion never
//! repeats what the sender wrote.

/// Lists this long or shorter are spelt out whole when no value is close.
const SPELT_OUT: usize = 8;
/// At most this many close spellings are named.
const NAMED: usize = 3;

/// The candidates closest to `given`, best first, in candidate order among
/// equals: every candidate equal to it but for letter case; failing that,
/// equal once letter case and separators (`.`, `-`, `_`, space) are set
/// aside; failing that, those a few edits away (at most one edit for every
/// three characters, and at least one). Empty when nothing is close.
pub(crate) fn closest<'a>(given: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    let same_case: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|c| c.eq_ignore_ascii_case(given))
        .collect();
    if !same_case.is_empty() {
        return same_case;
    }
    let folded = fold(given);
    let same_words: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|c| fold(c) == folded)
        .collect();
    if !same_words.is_empty() {
        return same_words;
    }
    let reach = (folded.chars().count() / 3).max(1);
    let mut near: Vec<(usize, usize, &str)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let d = distance(&folded, &fold(c));
            (d <= reach).then_some((d, i, *c))
        })
        .collect();
    near.sort_unstable();
    near.into_iter().take(NAMED).map(|(_, _, c)| c).collect()
}

/// The [`NAMED`] candidates fewest edits away from `given` however far
/// that is, best first, in candidate order among equals: what a long list
/// offers when nothing in it is close.
fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    let folded = fold(given);
    let mut all: Vec<(usize, usize, &str)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (distance(&folded, &fold(c)), i, *c))
        .collect();
    all.sort_unstable();
    all.into_iter().take(NAMED).map(|(_, _, c)| c).collect()
}

/// Lower case, without separators.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '.' | '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edits (insert, remove, replace, swap two neighbours) from `a` to `b`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the table.
    let mut before: Vec<usize> = Vec::new();
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let replace = last[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = replace.min(last[j] + 1).min(row[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

/// `` `a` ``, `` `a` or `b` ``, `` `a`, `b` or `c` `` (with `and` for
/// `or` as asked).
pub(crate) fn spelt(names: &[&str], or: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} {or} {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Why a value is not in the value list `list` (a definition name such as
/// `Priority`; `None` when the list has none), and what was expected: the
/// closest values to `given` when it is a text near some, otherwise the
/// whole list when it is short.
pub(crate) fn unlisted(list: Option<&str>, given: Option<&str>, values: &[&str]) -> String {
    let what = match list {
        Some(list) => format!("not a value of the {list} list"),
        None => "not one of the listed values".to_string(),
    };
    let near = given.map(|g| closest(g, values)).unwrap_or_default();
    if !near.is_empty() {
        format!("{what}; did you mean {}?", spelt(&near, "or"))
    } else if values.len() <= SPELT_OUT {
        format!("{what}; expected {}", spelt(values, "or"))
    } else {
        let family = given.and_then(|g| g.split_once('.')).map(|(f, _)| f);
        let kin: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| {
                family.is_some_and(|f| {
                    v.split_once('.')
                        .is_some_and(|(vf, _)| vf.eq_ignore_ascii_case(f))
                })
            })
            .collect();
        if kin.is_empty() || kin.len() > SPELT_OUT {
            match given.map(|g| nearest(g, values)) {
                Some(nearest) if !nearest.is_empty() => format!(
                    "{what}; the list has {} values, the nearest being {}",
                    values.len(),
                    spelt(&nearest, "and")
                ),
                _ => format!("{what}; the list has {} values", values.len()),
            }
        } else {
            format!("{what}; that family has {}", spelt(&kin, "and"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIORITY: &[&str] = &["Unknown", "Info", "Low", "Medium", "High"];

    #[test]
    fn letter_case_comes_first() {
        assert_eq!(closest("high", PRIORITY), ["High"]);
        assert_eq!(
            unlisted(Some("Priority"), Some("HIGH"), PRIORITY),
            "not a value of the Priority list; did you mean `High`?"
        );
        let categories = ["Recon.Network", "Recon.Osint", "Other.ext-value"];
        assert_eq!(closest("other.EXT-VALUE", &categories), ["Other.ext-value"]);
        assert_eq!(closest("ReconNetwork", &categories), ["Recon.Network"]);
    }

    #[test]
    fn near_spellings_are_named_best_first() {
        let categories = [
            "Recon.Aerial",
            "Recon.Network",
            "Recon.Netword",
            "Malware.Worm",
        ];
        assert_eq!(
            closest("Recon.Netwrok", &categories),
            ["Recon.Network", "Recon.Netword"]
        );
        assert_eq!(distance("netwrok", "network"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert!(closest("Sabotage", &categories).is_empty());
    }

    #[test]
    fn without_a_near_value_the_expectation_is_spelt_out() {
        assert_eq!(
            unlisted(Some("Priority"), Some("urgent"), PRIORITY),
            "not a value of the Priority list; expected `Unknown`, `Info`, `Low`, `Medium` or `High`"
        );
        assert_eq!(
            unlisted(Some("Priority"), None, PRIORITY),
            "not a value of the Priority list; expected `Unknown`, `Info`, `Low`, `Medium` or `High`"
        );
        let many: Vec<String> = (0..20)
            .map(|i| format!("Family{}.Kind{i}", i % 2))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            unlisted(Some("Category"), Some("Elsewhere.Thing"), &many),
            "not a value of the Category list; the list has 20 values, the nearest being \
             `Family0.Kind0`, `Family1.Kind1` and `Family0.Kind2`"
        );
        assert_eq!(
            unlisted(Some("Category"), None, &many),
            "not a value of the Category list; the list has 20 values"
        );
        let few = [
            "Recon.Aerial",
            "Recon.Network",
            "Malware.Worm",
            "Malware.Virus",
        ];
        let mut list = few.to_vec();
        list.extend(&many);
        assert_eq!(
            unlisted(None, Some("recon.radar"), &list),
            "not one of the listed values; that family has `Recon.Aerial` and `Recon.Network`"
        );
    }

    #[test]
    fn a_long_list_names_its_nearest_values_even_when_none_is_close() {
        let long = [
            "Recon.Aerial",
            "Recon.Network",
            "Malware.Worm",
            "Malware.Virus",
            "Fraud.Phishing",
            "Fraud.Scam",
            "Abuse.Spam",
            "Abuse.Harassment",
            "Access.Forced",
            "Access.Lost",
        ];
        assert!(closest("Spam", &long).is_empty());
        assert_eq!(nearest("Spam", &long)[0], "Abuse.Spam");
        let said = unlisted(Some("Category"), Some("Spam"), &long);
        assert!(said
            .ends_with("the list has 10 values, the nearest being `Abuse.Spam`, `Fraud.Scam` and `Malware.Worm`"), "{said}");
    }
}
