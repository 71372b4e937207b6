//! Dates as lists write them, kept at their precision.
//!
//! Accepted: `03/04/2023`, `3-4-2023`, `3.4.23`, `2023-04-03`, `2023/04/03`, `2023-04`,
//! `04/2023`, `2023`, `3 de abril de 2023`, `3 abril 2023`, `abril de 2023`, `3-abr-2023`,
//! `2023-04-03T00:00:00` (time dropped). Numeric dates are read day-first unless the list says
//! month-first ([`DateOrder::Mdy`]).

use recuento_model::{DateOrder, PartialDate};

use crate::fold;

/// Why a date could not be read; shown to documentation workers, so in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateProblem {
    /// Not a date in any accepted format.
    Unreadable,
    /// Looks like a date but names a day that does not exist (`31/02/2023`).
    NoSuchDay,
    /// A year outside 1900–2100.
    YearOutOfRange,
}

impl std::fmt::Display for DateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DateProblem::Unreadable => "is not a date recuento can read (examples of accepted dates: 03/04/2023, 2023-04-03, 3 de abril de 2023, abril 2023, 2023)",
            DateProblem::NoSuchDay => "names a day that does not exist in the calendar",
            DateProblem::YearOutOfRange => "has a year outside 1900–2100",
        })
    }
}

impl DateProblem {
    /// The same explanation in Spanish, for documentation teams.
    pub fn es(&self) -> &'static str {
        match self {
            DateProblem::Unreadable => {
                "no es una fecha que recuento pueda leer (ejemplos de fechas aceptadas: 03/04/2023, 2023-04-03, 3 de abril de 2023, abril 2023, 2023)"
            }
            DateProblem::NoSuchDay => "indica un día que no existe en el calendario",
            DateProblem::YearOutOfRange => "tiene un año fuera de 1900–2100",
        }
    }
}

/// A date read from a list, with a note when it was read in an unusual way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDate {
    /// The date at the precision the text gave.
    pub date: PartialDate,
    /// Set when day and month had to be swapped to make a valid date (`04/25/2023` in a
    /// day-first list).
    pub swapped: bool,
}

const MONTHS: [(&str, u8); 24] = [
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("ene", 1),
    ("feb", 2),
    ("mar", 3),
    ("abr", 4),
    ("jun", 6),
    ("jul", 7),
    ("ago", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dic", 12),
];

fn month_name(word: &str) -> Option<u8> {
    let w = word.trim_end_matches('.');
    MONTHS.iter().find(|(n, _)| *n == w).map(|(_, m)| *m)
}

fn year_of(token: &str) -> Option<i32> {
    if !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match token.len() {
        4 => token.parse().ok(),
        // Two-digit years: 00–30 are 2000s, the rest 1900s (birth dates reach back to the 1930s).
        2 => token
            .parse::<i32>()
            .ok()
            .map(|y| if y <= 30 { 2000 + y } else { 1900 + y }),
        _ => None,
    }
}

fn small(token: &str) -> Option<u8> {
    (token.len() <= 2 && token.bytes().all(|b| b.is_ascii_digit()))
        .then(|| token.parse().ok())
        .flatten()
}

fn check_year(d: PartialDate) -> Result<PartialDate, DateProblem> {
    if (1900..=2100).contains(&d.year) {
        Ok(d)
    } else {
        Err(DateProblem::YearOutOfRange)
    }
}

/// Reads a date written in any accepted format. Blank text is `Ok(None)`.
///
/// # Errors
/// [`DateProblem`] saying why the text is not a date.
pub fn parse_date(text: &str, order: DateOrder) -> Result<Option<ParsedDate>, DateProblem> {
    let raw = text.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    // Drop a time of day: `2023-04-03T00:00:00`, `2023-04-03 00:00:00`.
    let raw = raw
        .split_once('T')
        .filter(|(d, _)| d.len() == 10)
        .map_or(raw, |(d, _)| d);
    let raw = raw
        .split_once(' ')
        .filter(|(d, t)| d.len() == 10 && t.contains(':'))
        .map_or(raw, |(d, _)| d);
    let folded = fold(raw);
    let tokens: Vec<&str> = folded
        .split(' ')
        .filter(|t| !t.is_empty() && *t != "de" && *t != "del")
        .collect();
    let plain = |d: PartialDate| {
        check_year(d).map(|date| {
            Some(ParsedDate {
                date,
                swapped: false,
            })
        })
    };
    match tokens.as_slice() {
        [y] => {
            if y.len() == 4 {
                year_of(y).map_or(Err(DateProblem::Unreadable), |y| plain(PartialDate::y(y)))
            } else if y.len() == 8 && y.bytes().all(|b| b.is_ascii_digit()) {
                // 20230403
                let (yy, mm, dd) = (&y[..4], &y[4..6], &y[6..]);
                let (Some(yy), Some(mm), Some(dd)) = (year_of(yy), small(mm), small(dd)) else {
                    return Err(DateProblem::Unreadable);
                };
                PartialDate::ymd(yy, mm, dd).map_or(Err(DateProblem::NoSuchDay), plain)
            } else {
                Err(DateProblem::Unreadable)
            }
        }
        [a, b] => {
            // `abril 2023`, `04/2023`, `2023-04`
            if let (Some(m), Some(y)) = (month_name(a), year_of(b)) {
                return plain(PartialDate::ym(y, m).ok_or(DateProblem::Unreadable)?);
            }
            if let (Some(m), Some(y)) = (small(a), year_of(b).filter(|_| b.len() == 4)) {
                return PartialDate::ym(y, m).map_or(Err(DateProblem::Unreadable), plain);
            }
            if let (Some(y), Some(m)) = (year_of(a).filter(|_| a.len() == 4), small(b)) {
                return PartialDate::ym(y, m).map_or(Err(DateProblem::Unreadable), plain);
            }
            Err(DateProblem::Unreadable)
        }
        [a, b, c] => {
            // Year first: 2023-04-03.
            if a.len() == 4
                && let (Some(y), Some(m), Some(d)) = (year_of(a), small(b), small(c))
            {
                return PartialDate::ymd(y, m, d).map_or(Err(DateProblem::NoSuchDay), plain);
            }
            // Month by name: 3 de abril de 2023, 3-abr-2023.
            if let (Some(d), Some(m), Some(y)) = (small(a), month_name(b), year_of(c)) {
                return PartialDate::ymd(y, m, d).map_or(Err(DateProblem::NoSuchDay), plain);
            }
            let (Some(x), Some(z), Some(y)) = (small(a), small(b), year_of(c)) else {
                return Err(DateProblem::Unreadable);
            };
            let (d, m) = match order {
                DateOrder::Dmy => (x, z),
                DateOrder::Mdy => (z, x),
            };
            if let Some(date) = PartialDate::ymd(y, m, d) {
                return check_year(date).map(|date| {
                    Some(ParsedDate {
                        date,
                        swapped: false,
                    })
                });
            }
            // Day and month written the other way round (month > 12): keep it, say so.
            if m > 12
                && let Some(date) = PartialDate::ymd(y, d, m)
            {
                return check_year(date).map(|date| {
                    Some(ParsedDate {
                        date,
                        swapped: true,
                    })
                });
            }
            Err(DateProblem::NoSuchDay)
        }
        _ => Err(DateProblem::Unreadable),
    }
}

/// Approximate year of birth from an age at an event date: `event year - age`. The comparison
/// treats it as year precision, so ages off by one (birthday unknown) still agree within a year.
pub fn birth_year_from_age(age: u8, event: Option<PartialDate>) -> Option<PartialDate> {
    event.map(|e| PartialDate::y(e.year - i32::from(age)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse_date(s, DateOrder::Dmy)
            .map(|d| d.map(|d| d.date.to_string()).unwrap_or_default())
            .unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn accepted_formats() {
        assert_eq!(p("03/04/2023"), "2023-04-03");
        assert_eq!(p("3-4-2023"), "2023-04-03");
        assert_eq!(p("3.4.23"), "2023-04-03");
        assert_eq!(p("03/04/85"), "1985-04-03");
        assert_eq!(p("2023-04-03"), "2023-04-03");
        assert_eq!(p("2023/04/03"), "2023-04-03");
        assert_eq!(p("2023-04-03T00:00:00"), "2023-04-03");
        assert_eq!(p("2023-04-03 00:00:00"), "2023-04-03");
        assert_eq!(p("20230403"), "2023-04-03");
        assert_eq!(p("2023-04"), "2023-04");
        assert_eq!(p("04/2023"), "2023-04");
        assert_eq!(p("2023"), "2023");
        assert_eq!(p("3 de abril de 2023"), "2023-04-03");
        assert_eq!(p("3 DE ABRIL DEL 2023"), "2023-04-03");
        assert_eq!(p("3 abril 2023"), "2023-04-03");
        assert_eq!(p("abril de 2023"), "2023-04");
        assert_eq!(p("3-abr-2023"), "2023-04-03");
        assert_eq!(p("1 de septiembre de 2022"), "2022-09-01");
        assert_eq!(p(""), "");
    }

    #[test]
    fn problems_are_named() {
        assert_eq!(p("31/02/2023"), "NoSuchDay");
        assert_eq!(p("ayer"), "Unreadable");
        assert_eq!(p("03/04/1850"), "YearOutOfRange");
        assert_eq!(p("1/2/3/4"), "Unreadable");
    }

    #[test]
    fn swapped_day_and_month_are_read_and_flagged() {
        let d = parse_date("04/25/2023", DateOrder::Dmy).unwrap().unwrap();
        assert_eq!(d.date.to_string(), "2023-04-25");
        assert!(d.swapped);
        let d = parse_date("04/05/2023", DateOrder::Mdy).unwrap().unwrap();
        assert_eq!(d.date.to_string(), "2023-04-05");
    }
}
