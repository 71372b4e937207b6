//! Pure normalisers and comparators: no I/O, no DataFusion.
//!
//! * [`fold`]: the comparison key of a text value (lower case, accents and `ñ` folded, spaces
//!   collapsed). Raw values are kept elsewhere; only comparisons use the folded key.
//! * [`names`]: Spanish personal names: splitting a full name into given names and two surnames,
//!   particles (`de`, `del`, `de la`), married `de X`, nicknames, a Spanish phonetic key.
//! * [`dates`]: the date formats lists use, kept at their precision.
//! * [`ids`]: DUI check digits and cédula normalisation.
//! * [`places`]: facility names reduced to a key (`MARIONA` = `Centro Penal La Esperanza`).
//! * [`compare`]: comparison levels used by the linker (names, surnames, dates, IDs).
//!
//! ```
//! use recuento_text::{fold, names::split_full_name};
//! assert_eq!(fold("  JOSÉ   Peña "), "jose pena");
//! let n = split_full_name("María Reyes de Martínez");
//! assert_eq!(n.given, "maria");
//! assert_eq!(n.surname1, "reyes");
//! assert_eq!(n.married, "martinez");
//! ```
#![deny(missing_docs)]

pub mod compare;
pub mod dates;
pub mod ids;
pub mod names;
pub mod places;

use std::borrow::Cow;

/// Folds text to its comparison key: ASCII transliteration (accents, `ñ` -> `n`), lower case,
/// punctuation other than letters and digits turned into spaces, runs of spaces collapsed.
///
/// `deunicode` is used rather than NFKD + mark stripping because it is about twice as fast and
/// agreed with NFKD on every Spanish test name (see `stack.md`); it also transliterates
/// non-Latin scripts instead of dropping them.
pub fn fold(s: &str) -> String {
    let ascii: Cow<'_, str> = if s.is_ascii() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(deunicode::deunicode(s))
    };
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' || c == '’' {
            // O'Neill -> oneill: apostrophes join, they do not split.
        } else {
            pending_space = true;
        }
    }
    out
}

/// Unicode NFC form of a raw value, with surrounding white space trimmed: how raw values are
/// stored, so that the same text typed on two keyboards is stored identically.
pub fn nfc_trim(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.trim().nfc().collect()
}

/// Normalises a written sex to `M` (male) or `F` (female); `None` when blank or unknown.
pub fn normalise_sex(s: &str) -> Option<&'static str> {
    match fold(s).as_str() {
        "m" | "h" | "hombre" | "masculino" | "masc" | "male" | "varon" => Some("M"),
        "f" | "mujer" | "femenino" | "fem" | "female" => Some("F"),
        _ => None,
    }
}

/// Parses an age in years (`34`, `34 años`, `34.0`); `None` when not an age between 0 and 120.
pub fn parse_age(s: &str) -> Option<u8> {
    let f = fold(s);
    let digits = f.split(' ').next()?;
    let digits = digits.strip_suffix(".0").unwrap_or(digits);
    let age: u32 = digits.parse().ok()?;
    (age <= 120).then_some(age as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_examples() {
        assert_eq!(fold("Hernández  López"), "hernandez lopez");
        assert_eq!(fold("PEÑA-GÓMEZ"), "pena gomez");
        assert_eq!(fold("O'Neill"), "oneill");
        assert_eq!(fold("  "), "");
        assert_eq!(fold("Ça Über"), "ca uber");
    }

    #[test]
    fn sex_and_age() {
        assert_eq!(normalise_sex("Masculino"), Some("M"));
        assert_eq!(normalise_sex(" f "), Some("F"));
        assert_eq!(normalise_sex("?"), None);
        assert_eq!(parse_age("34 años"), Some(34));
        assert_eq!(parse_age("34.0"), Some(34));
        assert_eq!(parse_age("300"), None);
        assert_eq!(parse_age("treinta"), None);
    }

    proptest::proptest! {
        #[test]
        fn fold_is_idempotent(s in "\\PC{0,30}") {
            let once = fold(&s);
            proptest::prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
