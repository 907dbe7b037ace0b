//! Bounds on hostile input.

/// Bounds on hostile input, checked before and while decoding.
///
/// ```
/// let limits = idmefv2::Limits::default().with_max_bytes(64 * 1024);
/// let error = idmefv2::Message::from_slice_with(&vec![b' '; 70_000], &limits).unwrap_err();
/// assert!(matches!(error, idmefv2::Error::TooLarge { .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects inside an attachment's
    /// `Content` (the content object itself is level 1). Content is the
    /// only free JSON in a message, so this bounds the whole document.
    pub max_depth: usize,
}

impl Limits {
    /// Default for [`Limits::max_bytes`]: 1 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 1 << 20;
    /// Default for [`Limits::max_depth`]: 64 levels.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
    /// Levels the message structure itself uses above attachment content.
    pub(crate) const STRUCTURE_DEPTH: usize = 3;

    /// These limits with another byte limit.
    #[must_use]
    pub const fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// These limits with another depth limit.
    #[must_use]
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// The nesting budget for a whole document: the message structure plus
    /// attachment content.
    pub(crate) const fn document_depth(&self) -> usize {
        Self::STRUCTURE_DEPTH + self.max_depth
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}
