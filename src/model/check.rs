//! Checking a message while it is read, without building it.
//!
//! Decoding a message into the typed model checks every rule of the schema,
//! but it also copies each text into a `String` of its own and builds every
//! list and object, only for a caller that may want nothing but the verdict
//! (a receiver that stores the body as it came, `validate_slice`). The
//! [`Check`] impls here walk the same input with the same rules and keep
//! nothing: a text is looked at where it lies in the input, a list is never
//! gathered, and an object remembers only which members it has seen.
//!
//! The rules are not written twice. Texts with a pattern or format use the
//! very matcher of their type ([`crate::model::scalar`]), value lists and
//! numbers are decoded as usual (they allocate nothing), and each class's
//! impl is generated next to its `Deserialize` impl from the same member
//! list. The tests below hold the two to the same verdict.

use std::marker::PhantomData;

use serde::{
    de::{self, DeserializeOwned, SeqAccess, Visitor},
    Deserialize, Deserializer,
};

/// A type whose values can be checked as they are read.
pub(crate) trait Check {
    /// What the check hands back: nothing for almost every type; the
    /// root's `Version` and `ID`.
    type Kept;

    /// Reads one value from `d` and refuses it exactly when decoding a
    /// `Self` from the same input would.
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<Self::Kept, D::Error>;
}

/// A value of `T` read by [`Check::check`]: what the generated code asks a
/// map for with `next_value`.
pub(crate) struct Checked<T: Check>(pub(crate) T::Kept);

impl<'de, T: Check> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::check(d).map(Checked)
    }
}

/// Checks by decoding `T` in full and keeping it: for the few values a
/// caller of the check needs (the root's `Version` and `ID`).
pub(crate) struct Owned<T>(PhantomData<T>);

impl<T: DeserializeOwned> Check for Owned<T> {
    type Kept = T;
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// Checks by decoding and dropping the value: for types whose decoding
/// allocates nothing (value lists, numbers, `Version`), and for attachment
/// content, which is rare enough not to need a walk of its own.
macro_rules! check_by_decoding {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::model::check::Check for $ty {
            type Kept = ();
            fn check<'de, D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<(), D::Error> {
                <$ty as ::serde::Deserialize>::deserialize(d).map(drop)
            }
        }
    )*};
}
pub(crate) use check_by_decoding;

check_by_decoding!(
    crate::Version,
    super::scalar::Integer,
    super::scalar::Confidence,
    super::scalar::Content,
);

/// Any text: a string, looked at in place.
impl Check for String {
    type Kept = ();
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
                Ok(())
            }
        }
        // As `String` itself asks for it.
        d.deserialize_string(V)
    }
}

/// A list: each item checked as it comes, none kept.
impl<T: Check> Check for Vec<T> {
    type Kept = ();
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Check> Visitor<'de> for V<T> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element::<Checked<T>>()?.is_some() {}
                Ok(())
            }
        }
        // As `Vec` itself asks for it.
        d.deserialize_seq(V::<T>(PhantomData))
    }
}

/// The checker alone on a whole JSON message: its `Version` and `ID`, or
/// the first rule it broke (the full decoder explains refusals).
pub(crate) fn check_only(
    bytes: &[u8],
    max_depth: usize,
) -> serde_json::Result<(crate::Version, super::scalar::Id)> {
    crate::json::read_whole::<Checked<crate::Message>>(bytes, max_depth).map(|c| c.0)
}

#[cfg(test)]
mod tests {
    //! The checker against the decoder, on every fixture, on generated
    //! messages of every draft and on each of the generator's mutations of
    //! them (rendered with random spacing and string escapes): the two must
    //! agree on every input, and on the `Version` and `ID` of valid ones.

    use idmefv2_tools::gen::{self, Generator, Rng, KINDS};

    use crate::{Limits, Message};

    /// Asserts that the two agree on `bytes`; true when it is valid.
    fn agree(bytes: &[u8], what: &str) -> bool {
        let limits = Limits::default();
        let checked = super::check_only(bytes, limits.max_depth)
            .ok()
            .map(|(version, id)| (version, id.into_string()));
        let decoded = Message::from_slice_with(bytes, &limits)
            .ok()
            .map(|m| (m.version, m.id.into_string()));
        assert_eq!(
            checked,
            decoded,
            "{what}: checker and decoder disagree on {}",
            String::from_utf8_lossy(bytes)
        );
        decoded.is_some()
    }

    #[test]
    fn the_checker_decides_as_the_decoder_on_every_fixture() {
        let dirs = ["valid", "invalid", "drafts/valid", "drafts/invalid"];
        let mut valid = 0;
        for dir in dirs {
            for (name, bytes) in idmefv2_tools::fixtures::read(dir) {
                valid += usize::from(agree(&bytes, &format!("{dir}/{name}")));
            }
        }
        for (name, bytes) in idmefv2_tools::bench::INPUTS {
            assert!(agree(bytes, name), "{name} is valid");
        }
        assert!(valid >= 35, "{valid} valid fixtures");
    }

    #[test]
    fn the_checker_decides_as_the_decoder_on_generated_messages_and_their_mutants() {
        let (mut valid, mut mutants, mut refused) = (0, 0, 0);
        for seed in 0..60 {
            let mut rng = Rng::new(seed);
            let mut generators = Generator::all();
            let which = rng.below(generators.len());
            let generator = &mut generators[which];
            let message = generator.message(&mut rng);
            let bytes = gen::render(&message.value, &mut rng);
            valid += usize::from(agree(&bytes, &format!("seed {seed}")));
            for kind in 0..KINDS.len() {
                let mut mutant = generator.message(&mut rng);
                let mutation = gen::mutate(&mut mutant, generator, kind, &mut rng);
                let bytes = gen::render(&mutant.value, &mut rng);
                mutants += 1;
                refused += usize::from(!agree(&bytes, &format!("seed {seed}, {}", mutation.label)));
            }
        }
        // Both kinds of input were seen: messages of the typed drafts that
        // pass, and mutants that fail.
        assert!(valid >= 10, "{valid} valid generated messages");
        assert!(
            refused * 2 > mutants,
            "{refused} of {mutants} mutants refused"
        );
    }
}
