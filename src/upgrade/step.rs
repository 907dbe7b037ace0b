//! What every step works with: the draft it reaches, where its notes go,
//! and the changes more than one step makes.

use serde_json::{Map, Value};

use super::{NoteKind, UpgradeNote};
use crate::{Draft, Id};

/// One step under way: the draft it reaches, whether that draft is the
/// target, the value lists the step rewrites, and the notes of the whole
/// upgrade.
pub(super) struct Change<'n> {
    draft: Draft,
    /// The draft the notes name: `draft`, or its release when `draft` is
    /// a development name and the upgrade goes on to the release.
    named: Draft,
    last: bool,
    repair: bool,
    maps: &'static [ValueMap],
    notes: &'n mut Vec<UpgradeNote>,
}

/// A note just written, to add the value and the new place to.
pub(super) struct Noted<'a>(&'a mut UpgradeNote);

impl Noted<'_> {
    /// The value concerned (see [`UpgradeNote::value`]).
    pub(super) fn value(self, value: Value) -> Self {
        self.0.value = Some(value);
        self
    }

    /// Where the content now sits (see [`UpgradeNote::moved_to`]).
    pub(super) fn moved_to(self, pointer: impl Into<String>) -> Self {
        self.0.moved_to = Some(pointer.into());
        self
    }
}

/// How the values of one value list change in a step.
pub(super) struct ValueMap {
    /// Whether the list is a member of the analyzer rather than of the
    /// message itself.
    pub(super) in_analyzer: bool,
    /// The list member (`Category`, `Data`, …).
    pub(super) member: &'static str,
    /// The schema definition of the list's values, whose retired values
    /// (those the reached draft no longer lists) come from the schemas.
    pub(super) definition: &'static str,
    /// Old value to new value, same meaning.
    pub(super) renames: &'static [(&'static str, &'static str)],
    /// Where a retired value without a rename goes; without it, such a
    /// value stays and the final check refuses it.
    pub(super) extension: Option<Extension>,
}

/// The extension a retired value is carried through.
pub(super) struct Extension {
    /// The entry that replaces the value (`ext-value`, `Other.ext-value`).
    pub(super) entry: &'static str,
    /// The member that receives its old text (`ext-Category`, …).
    pub(super) member: &'static str,
}

impl<'n> Change<'n> {
    pub(super) fn new(
        draft: Draft,
        last: bool,
        repair: bool,
        maps: &'static [ValueMap],
        notes: &'n mut Vec<UpgradeNote>,
    ) -> Self {
        Change {
            draft,
            named: draft,
            last,
            repair,
            maps,
            notes,
        }
    }

    /// The draft this step reaches, whose schema it works to.
    pub(super) fn reached(&self) -> Draft {
        self.draft
    }

    /// Names the step's changes after `draft` in the notes (see
    /// [`draft_named`](Self::draft_named)).
    pub(super) fn named(mut self, draft: Draft) -> Self {
        self.named = draft;
        self
    }

    /// The draft the step's notes name: the draft it reaches, or the
    /// release of that development name when the upgrade reaches it too.
    pub(super) fn draft_named(&self) -> Draft {
        self.named
    }

    /// Whether the draft reached is the target of the upgrade.
    pub(super) fn is_last(&self) -> bool {
        self.last
    }

    /// With repair on, wraps the single texts of `value` where the reached
    /// draft's definition `definition` wants lists of texts (see
    /// `repair.rs`); `base` is the pointer of `value`.
    pub(super) fn repair(&mut self, definition: &str, value: &mut Value, base: &str) {
        if self.repair {
            let at = format!("/definitions/{definition}");
            super::repair::repair(self.draft, &at, value, base, self.notes);
        }
    }

    /// Writes a note on the value at `pointer` (in the original message).
    pub(super) fn note(
        &mut self,
        kind: NoteKind,
        pointer: impl Into<String>,
        reason: impl Into<String>,
    ) -> Noted<'_> {
        self.notes.push(UpgradeNote {
            pointer: pointer.into(),
            kind,
            draft: self.named.as_str(),
            reason: reason.into(),
            value: None,
            moved_to: None,
        });
        let last = self.notes.len() - 1;
        Noted(&mut self.notes[last])
    }

    /// Makes the text member `name` of `object` a one-element list.
    pub(super) fn text_to_list(&mut self, object: &mut Map<String, Value>, base: &str, name: &str) {
        let Some(value) = object.get_mut(name) else {
            return;
        };
        if value.is_string() {
            let old = value.take();
            *value = Value::Array(vec![old.clone()]);
            let reason = format!("{} makes {name} a list of texts", self.named);
            self.note(NoteKind::Restructured, format!("{base}/{name}"), reason)
                .value(old)
                .moved_to(format!("{base}/{name}/0"));
        }
    }

    /// Gives `object` a fresh `ID` if it has none.
    pub(super) fn invent_id(&mut self, object: &mut Map<String, Value>, base: &str) {
        if object.contains_key("ID") {
            return;
        }
        let id = Value::String(Id::generate().as_str().to_string());
        object.insert("ID".into(), id.clone());
        let reason = format!(
            "{} requires an ID here; a fresh UUID was made up",
            self.named
        );
        self.note(NoteKind::Invented, format!("{base}/ID"), reason)
            .value(id);
    }

    /// Rewrites the value lists of the step, in the order the step lists
    /// them.
    pub(super) fn rewrite_value_lists(&mut self, message: &mut Map<String, Value>) {
        let maps = self.maps;
        for map in maps {
            self.map_values(message, map);
        }
    }

    /// Rewrites the values of one list of `message` as `map` says, noting
    /// each change in list order.
    fn map_values(&mut self, message: &mut Map<String, Value>, map: &ValueMap) {
        let (object, base) = if map.in_analyzer {
            match message.get_mut("Analyzer") {
                Some(Value::Object(analyzer)) => (analyzer, "/Analyzer"),
                _ => return,
            }
        } else {
            (message, "")
        };
        // An extension member that is not a list cannot receive values;
        // the retired values then stay, and the final check refuses them.
        let extension = map
            .extension
            .as_ref()
            .filter(|ext| object.get(ext.member).is_none_or(Value::is_array));
        let ext_len = extension
            .and_then(|ext| object.get(ext.member))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let retired = self.draft.retired(map.definition);
        let Some(Value::Array(items)) = object.get_mut(map.member) else {
            return;
        };
        let mut carried: Vec<Value> = Vec::new();
        for (i, item) in items.iter_mut().enumerate() {
            let Some(old) = item.as_str() else { continue };
            let pointer = format!("{base}/{}/{i}", map.member);
            if let Some((_, new)) = map.renames.iter().find(|(from, _)| *from == old) {
                let old = std::mem::replace(item, Value::String((*new).into()));
                let reason = format!("{} calls this value `{new}`", self.named);
                self.note(NoteKind::Renamed, pointer, reason).value(old);
            } else if retired.contains(&old) {
                let Some(ext) = extension else {
                    continue;
                };
                let old = std::mem::replace(item, Value::String(ext.entry.into()));
                let at = ext_len + carried.len();
                carried.push(old.clone());
                let reason = format!(
                    "{} no longer lists this value; it became `{}` with the old text in {}",
                    self.draft, ext.entry, ext.member
                );
                self.note(NoteKind::Extended, pointer, reason)
                    .value(old)
                    .moved_to(format!("{base}/{}/{at}", ext.member));
            }
        }
        if let (Some(ext), false) = (extension, carried.is_empty()) {
            if let Value::Array(list) = object
                .entry(ext.member)
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                list.extend(carried);
            }
        }
    }
}
