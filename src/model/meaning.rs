//! How two texts of a checked type compare: as text, or by what they
//! denote (the UUID of an [`Id`](super::scalar::Id), the instant of a
//! [`Timestamp`](super::scalar::Timestamp)). The table in `hand_written.rs`
//! names one of these for each pattern type; equality, order and hashing
//! all go through the same key, so they agree.

use std::hash::Hash;

use super::scalar::TimestampFields;

/// A way of comparing texts of one checked type.
pub(crate) trait Meaning {
    /// What is compared and hashed.
    type Key<'a>: Ord + Hash;
    /// The key of a text the type's pattern accepts.
    fn key(text: &str) -> Self::Key<'_>;
}

/// Texts compare as they are written.
pub(crate) struct Text;

impl Meaning for Text {
    type Key<'a> = &'a str;
    fn key(text: &str) -> &str {
        text
    }
}

/// UUIDs compare by their 128-bit value, whatever the case of their hex
/// digits.
pub(crate) struct Uuid;

impl Meaning for Uuid {
    type Key<'a> = u128;
    fn key(text: &str) -> u128 {
        text.bytes().fold(0, |value, b| {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                // The hyphens between the groups.
                _ => return value,
            };
            (value << 4) | u128::from(digit)
        })
    }
}

/// Timestamps compare by the instant they name (see the docs of
/// [`Timestamp`](super::scalar::Timestamp) for the cases without one).
pub(crate) struct Instant;

/// The instant of a timestamp, as compared and hashed; field order is
/// the order of comparison.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct InstantKey<'a> {
    /// Whole seconds since 1970-01-01T00:00:00 UTC; second 60 counts as
    /// second 59, and a time without offset is read as UTC.
    seconds: i64,
    /// Second 60: after every fraction of second 59.
    leap: bool,
    /// The digits of the fraction without trailing zeros, which compare
    /// as decimals when compared as text.
    fraction: &'a str,
    /// No offset: a wall-clock time, never equal to an instant.
    local: bool,
    /// The whole text, for a date the calendar does not have, which is
    /// then equal to itself only.
    irregular: Option<&'a str>,
}

impl Meaning for Instant {
    type Key<'a> = InstantKey<'a>;
    fn key(text: &str) -> InstantKey<'_> {
        let Some(f) = TimestampFields::read(text) else {
            // Not reached for a checked timestamp; the text then stands
            // for itself.
            return InstantKey {
                seconds: i64::MIN,
                leap: false,
                fraction: "",
                local: false,
                irregular: Some(text),
            };
        };
        let (year, month) = match f.month {
            0 => (i64::from(f.year) - 1, 12),
            m => (i64::from(f.year), i64::from(m)),
        };
        let real = time::Month::try_from(f.month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(f.year, m, f.day).ok())
            .is_some();
        let days = days_from_civil(year, month, i64::from(f.day));
        let clock =
            i64::from(f.hour) * 3600 + i64::from(f.minute) * 60 + i64::from(f.second.min(59));
        let offset = i64::from(f.offset_minutes.unwrap_or(0)) * 60;
        InstantKey {
            seconds: days * 86_400 + clock - offset,
            leap: f.second == 60,
            fraction: fraction_digits(text),
            local: f.offset_minutes.is_none(),
            irregular: (!real).then_some(text),
        }
    }
}

/// The digits after the seconds' decimal point, without trailing zeros.
fn fraction_digits(text: &str) -> &str {
    // The pattern puts the seconds at bytes 17..19, then the fraction.
    let Some(rest) = text.get(19..).and_then(|r| r.strip_prefix('.')) else {
        return "";
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].trim_end_matches('0')
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian
/// calendar; a day past the end of its month runs on into the next.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_match_the_calendar() {
        let epoch = time::Date::from_calendar_date(1970, time::Month::January, 1).unwrap();
        let mut date = time::Date::from_calendar_date(0, time::Month::January, 1).unwrap();
        let end = time::Date::from_calendar_date(2401, time::Month::March, 1).unwrap();
        while date < end {
            let expected = (date - epoch).whole_days();
            let found = days_from_civil(
                i64::from(date.year()),
                i64::from(u8::from(date.month())),
                i64::from(date.day()),
            );
            assert_eq!(found, expected, "{date}");
            date = date.next_day().unwrap();
        }
        let found = days_from_civil(9999, 12, 31);
        let last = time::Date::from_calendar_date(9999, time::Month::December, 31).unwrap();
        assert_eq!(found, (last - epoch).whole_days());
    }

    #[test]
    fn uuid_keys_ignore_case_and_hyphens() {
        let lower = Uuid::key("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(lower, 0x6ba7b8109dad11d180b400c04fd430c8);
        assert_eq!(Uuid::key("6BA7B810-9DAD-11D1-80B4-00C04FD430C8"), lower);
    }

    #[test]
    fn fractions_lose_only_trailing_zeros() {
        assert_eq!(fraction_digits("2025-01-01T00:00:00Z"), "");
        assert_eq!(fraction_digits("2025-01-01T00:00:00.000Z"), "");
        assert_eq!(fraction_digits("2025-01-01T00:00:00.0500+01:00"), "05");
        assert_eq!(fraction_digits("2025-01-01T00:00:00.5"), "5");
    }
}
