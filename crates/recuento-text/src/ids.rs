//! National identity numbers: DUI (El Salvador) and cédula (Venezuela).

/// A national ID after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NationalId {
    /// A DUI written as `01234567-8`; `valid` is false when the check digit fails (a typo, not a
    /// different person: the record is kept and flagged).
    Dui {
        /// Canonical form `dddddddd-d`.
        value: String,
        /// Whether the check digit agrees.
        valid: bool,
    },
    /// A Venezuelan cédula as `V12345678` or `E12345678` (no checksum exists).
    Cedula(String),
    /// Something else, kept folded (letters and digits only, upper case).
    Other(String),
}

impl NationalId {
    /// The canonical text used for comparison.
    pub fn value(&self) -> &str {
        match self {
            NationalId::Dui { value, .. }
            | NationalId::Cedula(value)
            | NationalId::Other(value) => value,
        }
    }
}

/// The DUI check digit of 8 digits: weights 9..2, sum, `(10 - sum mod 10) mod 10`.
pub fn dui_check_digit(digits: &[u8; 8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip((2..=9).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether an ID already in canonical form ([`NationalId::value`]) is a DUI whose check digit
/// agrees: `None` when it is not a DUI (cédulas and other IDs have no check digit). Cheap and
/// allocation-free, for the comparison of every candidate pair.
pub fn canonical_dui_valid(id: &str) -> Option<bool> {
    let b = id.as_bytes();
    if b.len() != 10 || b[8] != b'-' || !b[..8].iter().chain(&b[9..]).all(u8::is_ascii_digit) {
        return None;
    }
    let mut digits = [0u8; 8];
    for (d, c) in digits.iter_mut().zip(&b[..8]) {
        *d = c - b'0';
    }
    Some(dui_check_digit(&digits) == b[9] - b'0')
}

/// Normalises an ID as written. Blank is `None`.
///
/// Nine digits (with or without the dash) are a DUI; `V-`/`E-` followed by 6–9 digits is a
/// cédula; anything else is kept as upper-case letters and digits.
pub fn normalise_id(text: &str) -> Option<NationalId> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let alnum: String = t
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if alnum.is_empty() {
        return None;
    }
    if alnum.len() == 9 && alnum.bytes().all(|b| b.is_ascii_digit()) {
        let d: Vec<u8> = alnum.bytes().map(|b| b - b'0').collect();
        let mut first = [0u8; 8];
        first.copy_from_slice(&d[..8]);
        let valid = dui_check_digit(&first) == d[8];
        return Some(NationalId::Dui {
            value: format!("{}-{}", &alnum[..8], &alnum[8..]),
            valid,
        });
    }
    let (prefix, digits) = alnum.split_at(1);
    if (prefix == "V" || prefix == "E")
        && (6..=9).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(NationalId::Cedula(format!(
            "{prefix}{}",
            digits.trim_start_matches('0')
        )));
    }
    Some(NationalId::Other(alnum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dui_check_digit_known_values() {
        // 00016297-5 is the example DUI used in Salvadoran documentation of the algorithm.
        assert_eq!(dui_check_digit(&[0, 0, 0, 1, 6, 2, 9, 7]), 5);
        match normalise_id("00016297-5").unwrap() {
            NationalId::Dui { value, valid } => {
                assert_eq!(value, "00016297-5");
                assert!(valid);
            }
            other => panic!("{other:?}"),
        }
        match normalise_id("000162975").unwrap() {
            NationalId::Dui { valid, .. } => assert!(valid),
            other => panic!("{other:?}"),
        }
        match normalise_id("00016297-4").unwrap() {
            NationalId::Dui { valid, .. } => assert!(!valid),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn canonical_duis_are_checked_without_normalising_again() {
        assert_eq!(canonical_dui_valid("00016297-5"), Some(true));
        assert_eq!(canonical_dui_valid("00016297-4"), Some(false));
        assert_eq!(canonical_dui_valid("V12345678"), None);
        assert_eq!(canonical_dui_valid("000162975"), None);
    }

    #[test]
    fn cedulas_and_others() {
        assert_eq!(
            normalise_id("V-12.345.678"),
            Some(NationalId::Cedula("V12345678".into()))
        );
        assert_eq!(
            normalise_id("e 0812345"),
            Some(NationalId::Cedula("E812345".into()))
        );
        assert_eq!(normalise_id(" - "), None);
        assert_eq!(normalise_id("A123"), Some(NationalId::Other("A123".into())));
    }
}
