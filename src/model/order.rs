//! Member order of decoded objects, so that a message read and written
//! again keeps the order its sender chose.

use std::{cell::Cell, fmt};

thread_local! {
    /// Whether objects decoded on this thread record their member order;
    /// set by the decoder for the duration of one decode of raw input.
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

/// Records member order until dropped.
pub(crate) struct Recording(bool);

impl Recording {
    pub(crate) fn start() -> Self {
        Recording(RECORDING.with(|r| r.replace(true)))
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.with(|r| r.set(self.0));
    }
}

/// The order in which an object's members were read, as indexes into the
/// class's members in schema order. Empty for objects built in code or
/// decoded from something other than raw input (a `serde_json::Value` has
/// already lost the order), which are written in schema order.
///
/// It is presentation only: two objects that differ only in member order
/// are equal.
#[derive(Clone, Copy, Default)]
pub(crate) struct MemberOrder {
    len: u8,
    members: [u8; 32],
    recording: bool,
}

impl MemberOrder {
    /// An empty order that records pushes when the decoder asked for it.
    pub(crate) fn recorder() -> Self {
        MemberOrder {
            recording: RECORDING.with(Cell::get),
            ..MemberOrder::default()
        }
    }

    pub(crate) fn push(&mut self, member: u8) {
        if !self.recording {
            return;
        }
        if let Some(slot) = self.members.get_mut(usize::from(self.len)) {
            *slot = member;
            self.len += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        self.members
            .get(..usize::from(self.len))
            .unwrap_or_default()
            .iter()
            .copied()
    }
}

impl PartialEq for MemberOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for MemberOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
