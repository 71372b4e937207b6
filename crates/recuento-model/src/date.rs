//! Dates that keep their precision.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How much of a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Precision {
    /// Only the year.
    Year,
    /// Year and month.
    Month,
    /// Year, month and day.
    Day,
}

/// A date known to day, month or year precision. Written as `YYYY-MM-DD`, `YYYY-MM` or `YYYY`,
/// so the precision travels with the value through Parquet and CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    /// Year (four digits).
    pub year: i32,
    /// Month 1–12, when known.
    pub month: Option<u8>,
    /// Day 1–31, when known (only with a month).
    pub day: Option<u8>,
}

impl PartialDate {
    /// A full date, checked against the calendar (leap years included).
    pub fn ymd(year: i32, month: u8, day: u8) -> Option<PartialDate> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(PartialDate {
            year,
            month: Some(month),
            day: Some(day),
        })
    }

    /// Year and month only.
    pub fn ym(year: i32, month: u8) -> Option<PartialDate> {
        (1..=12).contains(&month).then_some(PartialDate {
            year,
            month: Some(month),
            day: None,
        })
    }

    /// Year only.
    pub fn y(year: i32) -> PartialDate {
        PartialDate {
            year,
            month: None,
            day: None,
        }
    }

    /// How much of the date is known.
    pub fn precision(&self) -> Precision {
        match (self.month, self.day) {
            (Some(_), Some(_)) => Precision::Day,
            (Some(_), None) => Precision::Month,
            _ => Precision::Year,
        }
    }

    /// Parses the canonical forms `YYYY-MM-DD`, `YYYY-MM` and `YYYY` (what [`fmt::Display`] writes).
    pub fn parse_iso(s: &str) -> Option<PartialDate> {
        // The canonical forms read digit by digit: the date comparator parses both dates of
        // every candidate pair (64 million parses at 1,000,000 records), and splitting and
        // parsing each part cost three times as much. Anything else takes the general path.
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let fast = match b.len() {
            4 => digits(0..4).map(|y| Some(PartialDate::y(y as i32))),
            7 if b[4] == b'-' => digits(0..4)
                .zip(digits(5..7))
                .map(|(y, m)| PartialDate::ym(y as i32, m as u8)),
            10 if b[4] == b'-' && b[7] == b'-' => digits(0..4)
                .zip(digits(5..7))
                .zip(digits(8..10))
                .map(|((y, m), d)| PartialDate::ymd(y as i32, m as u8, d as u8)),
            _ => None,
        };
        match fast {
            Some(date) => date,
            None => Self::parse_by_parts(s),
        }
    }

    /// The general reading of [`PartialDate::parse_iso`]: split on `-`, each part a number.
    fn parse_by_parts(s: &str) -> Option<PartialDate> {
        let mut parts = s.split('-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month = parts.next();
        let day = parts.next();
        if parts.next().is_some() {
            return None;
        }
        match (month, day) {
            (None, None) => Some(PartialDate::y(year)),
            (Some(m), None) => PartialDate::ym(year, m.parse().ok()?),
            (Some(m), Some(d)) => PartialDate::ymd(year, m.parse().ok()?, d.parse().ok()?),
            (None, Some(_)) => None,
        }
    }

    /// Days since 1970-01-01 for a full date (civil calendar), `None` otherwise.
    pub fn days_since_epoch(&self) -> Option<i64> {
        let (m, d) = (self.month?, self.day?);
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe - 719_468)
    }
}

/// Days in a month of the Gregorian calendar.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip_keeps_precision() {
        for s in ["2023-04-03", "2023-04", "2023", "2024-02-29"] {
            assert_eq!(PartialDate::parse_iso(s).unwrap().to_string(), s);
        }
        assert!(PartialDate::parse_iso("2023-02-29").is_none());
        assert!(PartialDate::parse_iso("2023-13").is_none());
    }

    /// The digit-by-digit reading of the canonical forms agrees with the general one on every
    /// string of their lengths built from digits, dashes and a few other characters.
    #[test]
    fn fast_parse_agrees_with_the_general_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let alphabet = b"0123456789-+ x";
        let mut checked = 0;
        for _ in 0..200_000 {
            let len = [4, 7, 10, 5, 9][rng.random_range(0..5)];
            let mut b: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            // Mostly well-formed: digits with dashes where the canonical forms have them.
            if rng.random::<f64>() < 0.8 {
                for (i, c) in b.iter_mut().enumerate() {
                    *c = if i == 4 || i == 7 {
                        b'-'
                    } else {
                        b'0' + rng.random_range(0..10u8)
                    };
                }
            }
            let s = String::from_utf8(b).unwrap();
            assert_eq!(
                PartialDate::parse_iso(&s),
                PartialDate::parse_by_parts(&s),
                "{s:?}"
            );
            checked += usize::from(PartialDate::parse_by_parts(&s).is_some());
        }
        assert!(checked > 10_000, "{checked} valid dates checked");
        for s in [
            "2024-02-29",
            "2023-02-29",
            "0000",
            "9999-12-31",
            "2023-00",
            "2023-1-05",
        ] {
            assert_eq!(
                PartialDate::parse_iso(s),
                PartialDate::parse_by_parts(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn epoch_days() {
        assert_eq!(
            PartialDate::ymd(1970, 1, 1).unwrap().days_since_epoch(),
            Some(0)
        );
        assert_eq!(
            PartialDate::ymd(2000, 3, 1).unwrap().days_since_epoch(),
            Some(11_017)
        );
        assert_eq!(PartialDate::y(2000).days_since_epoch(), None);
    }
}
