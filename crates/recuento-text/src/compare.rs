//! Comparison levels for the linker.
//!
//! Each comparator takes folded values (see [`crate::fold`]) and returns a level: `-1` when
//! either side is missing (the pair gets no evidence either way), `0` when the values disagree,
//! and higher levels for closer agreement. The names of the levels are in the `*_LEVELS`
//! constants, indexed by `level + 1`, so explanations can print them.

use recuento_model::{PartialDate, Precision};

use crate::names::canonical_given;

/// Level for a missing value on either side.
pub const NULL: i8 = -1;

/// Jaro–Winkler similarity of two ASCII-folded strings (prefix weight 0.1, boost above 0.7).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    rapidfuzz::distance::jaro_winkler::similarity(a.bytes(), b.bytes())
}

/// Damerau–Levenshtein distance (transpositions count one edit), for IDs and dates.
pub fn damerau(a: &str, b: &str) -> usize {
    rapidfuzz::distance::damerau_levenshtein::distance(a.bytes(), b.bytes())
}

/// Whether two strings are at most one edit apart (one substitution, insertion, deletion, or
/// transposition of adjacent bytes): `damerau(a, b) <= 1`, answered in one pass. The
/// comparators only ever ask this question of dates and IDs, for tens of millions of pairs,
/// and the general distance builds a table for each.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let first_difference = short
        .iter()
        .zip(long)
        .position(|(x, y)| x != y)
        .unwrap_or(short.len());
    let i = first_difference;
    match long.len() - short.len() {
        0 if i == short.len() => true,
        // A substitution at i, or i and i + 1 swapped.
        0 => {
            short[i + 1..] == long[i + 1..]
                || (i + 1 < short.len()
                    && short[i] == long[i + 1]
                    && short[i + 1] == long[i]
                    && short[i + 2..] == long[i + 2..])
        }
        // The longer one has an extra byte at i.
        1 => short[i..] == long[i + 1..],
        _ => false,
    }
}

/// Names of the given-name levels.
pub const GIVEN_LEVELS: [&str; 6] = [
    "missing",
    "different",
    "similar (Jaro-Winkler >= 0.80)",
    "very similar (Jaro-Winkler >= 0.92)",
    "same first given name (nicknames resolved)",
    "all given names equal",
];

/// Compares given names: exact; the same first name once nicknames are resolved or one side
/// keeps only some of the other's names; Jaro–Winkler on the first names.
pub fn compare_given(a: &str, b: &str) -> i8 {
    if a.is_empty() || b.is_empty() {
        return NULL;
    }
    if a == b {
        return 4;
    }
    let (a_words, b_words) = (Words::new(a), Words::new(b));
    let (a_words, b_words) = (a_words.as_slice(), b_words.as_slice());
    // `split` gives at least one word, so these are the first given names.
    let (a1, b1) = (a_words[0], b_words[0]);
    // `José` vs `José Luis`, `Luis` vs `José Luis`: one side's names all appear on the other.
    let subset =
        a_words.iter().all(|w| b_words.contains(w)) || b_words.iter().all(|w| a_words.contains(w));
    if a1 == b1 || subset {
        return 3;
    }
    let jw = jaro_winkler(a1, b1).max(jaro_winkler(a, b));
    if jw >= 0.92 {
        2
    } else if jw >= 0.80 {
        1
    } else {
        0
    }
}

/// The words of a given-name string with nicknames resolved, on the stack for up to eight
/// words (comparisons run tens of millions of times; an allocation each is measurable).
enum Words<'a> {
    Few([&'a str; 8], usize),
    Many(Vec<&'a str>),
}

impl<'a> Words<'a> {
    fn new(s: &'a str) -> Self {
        let mut few = [""; 8];
        let mut n = 0;
        for w in s.split(' ') {
            if n == few.len() {
                return Words::Many(s.split(' ').map(canonical_given).collect());
            }
            few[n] = canonical_given(w);
            n += 1;
        }
        Words::Few(few, n)
    }

    fn as_slice(&self) -> &[&'a str] {
        match self {
            Words::Few(few, n) => &few[..*n],
            Words::Many(v) => v,
        }
    }
}

/// Names of the surname levels.
pub const SURNAME_LEVELS: [&str; 7] = [
    "missing",
    "different",
    "similar (Jaro-Winkler >= 0.80)",
    "very similar (Jaro-Winkler >= 0.92)",
    "one surname equal, the other differs",
    "equal but one side lacks a surname, swapped, joined, or one typo",
    "both surnames equal",
];

/// Compares (first surname, second surname) pairs, the Spanish way: both equal; one side lacks
/// its second surname; surnames swapped; surnames written joined (`hernandezlopez`); one equal
/// and the other different (married name, typo); Jaro–Winkler on the whole surname string.
pub fn compare_surnames<'a>(a1: &'a str, a2: &'a str, b1: &'a str, b2: &'a str) -> i8 {
    if (a1.is_empty() && a2.is_empty()) || (b1.is_empty() && b2.is_empty()) {
        return NULL;
    }
    if a1 == b1 && a2 == b2 {
        return 5;
    }
    let a_one = a2.is_empty();
    let b_one = b2.is_empty();
    // Both surnames written as one word (`hernandezlopez`), compared without building it.
    let joined = |x: &'a str, y: &'a str| x.bytes().chain(y.bytes()).filter(|c| *c != b' ');
    let (joined_a, joined_b) = (joined(a1, a2), joined(b1, b2));
    if (a1 == b1 && (a_one || b_one))
        || (!a_one && !b_one && a1 == b2 && a2 == b1)
        || joined_a.clone().eq(joined_b.clone())
        || (a_one && (a1 == b2 || a1.bytes().eq(joined_b)))
        || (b_one && (b1 == a2 || b1.bytes().eq(joined_a)))
    {
        return 4;
    }
    // One surname equal: a typo in the other (level 4) or a different one, such as a married
    // name replacing the maternal surname (level 3).
    let one_equal = if a1 == b1 && !a_one && !b_one {
        Some((a2, b2))
    } else if !a_one && !b_one && a2 == b2 {
        Some((a1, b1))
    } else if (!a_one && a2 == b1) || (!b_one && a1 == b2) {
        Some(("", "x"))
    } else {
        None
    };
    if let Some((x, y)) = one_equal {
        return if jaro_winkler(x, y) >= 0.90 { 4 } else { 3 };
    }
    // Both surnames of each side as one string, `a1 a2`, without building it.
    let whole = |x: &'a str, y: &'a str| x.bytes().chain(std::iter::once(b' ')).chain(y.bytes());
    let jw = if a_one || b_one {
        jaro_winkler(a1, b1)
    } else {
        rapidfuzz::distance::jaro_winkler::similarity(whole(a1, a2), whole(b1, b2))
    };
    if jw >= 0.92 {
        2
    } else if jw >= 0.80 {
        1
    } else {
        0
    }
}

/// Names of the date levels.
pub const DATE_LEVELS: [&str; 7] = [
    "missing",
    "different",
    "within a year",
    "equal at the precision both sides have (month or year)",
    "within 31 days",
    "day and month swapped, or one digit off",
    "exactly equal",
];

/// Compares two partial dates (`YYYY-MM-DD`, `YYYY-MM`, `YYYY`) at the precision both have.
pub fn compare_dates(a: &str, b: &str) -> i8 {
    let (Some(da), Some(db)) = (PartialDate::parse_iso(a), PartialDate::parse_iso(b)) else {
        return NULL;
    };
    let precision = da.precision().min(db.precision());
    let year_gap = (da.year - db.year).abs();
    match precision {
        Precision::Day => {
            if da == db {
                return 5;
            }
            let swapped = da.day == db.month && da.month == db.day && da.year == db.year;
            if swapped || within_one_edit(a, b) {
                return 4;
            }
            if let (Some(x), Some(y)) = (da.days_since_epoch(), db.days_since_epoch())
                && (x - y).abs() <= 31
            {
                return 3;
            }
            if year_gap <= 1 { 1 } else { 0 }
        }
        Precision::Month => {
            if da.year == db.year && da.month == db.month {
                2
            } else if year_gap <= 1 {
                1
            } else {
                0
            }
        }
        Precision::Year => {
            if year_gap == 0 {
                2
            } else if year_gap <= 1 {
                1
            } else {
                0
            }
        }
    }
}

/// Names of the ID levels.
pub const ID_LEVELS: [&str; 6] = [
    "missing",
    "two different valid DUIs",
    "different",
    "one typo apart",
    "one typo apart, one side failing the DUI check digit",
    "equal",
];

/// Compares normalised national IDs (see `domain.md`: a failing DUI check digit means a typo,
/// not another person; two people never share a valid DUI):
///
/// * equal;
/// * one edit apart (a typo or a transposition) where one side fails the DUI check digit: most
///   likely the same DUI mistyped;
/// * one edit apart otherwise;
/// * different;
/// * two different DUIs that both pass the check: most likely two different people.
pub fn compare_ids(a: &str, b: &str) -> i8 {
    if a.is_empty() || b.is_empty() {
        return NULL;
    }
    let valid = crate::ids::canonical_dui_valid;
    if a == b {
        4
    } else if a.len() == b.len() && within_one_edit(a, b) {
        if valid(a) == Some(false) || valid(b) == Some(false) {
            3
        } else {
            2
        }
    } else if valid(a) == Some(true) && valid(b) == Some(true) {
        0
    } else {
        1
    }
}

/// Names of the age levels.
pub const AGE_LEVELS: [&str; 5] = [
    "missing",
    "different (more than 2 years apart)",
    "2 years apart",
    "1 year apart (one side before a birthday, the other after)",
    "equal",
];

/// Compares ages as written (`34`, `34 años`): equal, one year apart (lists record ages at
/// different moments, or round them), two years apart, different.
pub fn compare_ages(a: &str, b: &str) -> i8 {
    let (Some(x), Some(y)) = (crate::parse_age(a), crate::parse_age(b)) else {
        return NULL;
    };
    match x.abs_diff(y) {
        0 => 3,
        1 => 2,
        2 => 1,
        _ => 0,
    }
}

/// Names of the place levels.
pub const PLACE_LEVELS: [&str; 4] = [
    "missing",
    "different",
    "similar (Jaro-Winkler >= 0.88)",
    "equal",
];

/// Compares places or facilities: equal, similar, different.
pub fn compare_places(a: &str, b: &str) -> i8 {
    if a.is_empty() || b.is_empty() {
        return NULL;
    }
    if a == b {
        2
    } else if jaro_winkler(a, b) >= 0.88 {
        1
    } else {
        0
    }
}

/// Names of the exact-match levels.
pub const EXACT_LEVELS: [&str; 3] = ["missing", "different", "equal"];

/// Compares two values for equality only (sex).
pub fn compare_exact(a: &str, b: &str) -> i8 {
    if a.is_empty() || b.is_empty() {
        NULL
    } else if a == b {
        1
    } else {
        0
    }
}

/// A string-similarity measure for [`fuzzy_level`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fuzzy {
    /// Equality only.
    Exact,
    /// Jaro–Winkler similarity, thresholds highest first.
    JaroWinkler,
    /// Jaro similarity, thresholds highest first.
    Jaro,
    /// Levenshtein distance, thresholds smallest first.
    Levenshtein,
    /// Damerau–Levenshtein distance (optimal string alignment not required: true Damerau),
    /// thresholds smallest first.
    DamerauLevenshtein,
}

impl Fuzzy {
    /// The SQL spelling used by the `cmp_fuzzy` function.
    pub fn key(self) -> &'static str {
        match self {
            Fuzzy::Exact => "exact",
            Fuzzy::JaroWinkler => "jaro_winkler",
            Fuzzy::Jaro => "jaro",
            Fuzzy::Levenshtein => "levenshtein",
            Fuzzy::DamerauLevenshtein => "damerau_levenshtein",
        }
    }

    /// Parses [`Fuzzy::key`].
    pub fn from_key(key: &str) -> Option<Fuzzy> {
        [
            Fuzzy::Exact,
            Fuzzy::JaroWinkler,
            Fuzzy::Jaro,
            Fuzzy::Levenshtein,
            Fuzzy::DamerauLevenshtein,
        ]
        .into_iter()
        .find(|f| f.key() == key)
    }
}

/// Level of a pair of values under a similarity measure with thresholds: `-1` missing, `0`
/// different, `1..=t` passing the weakest to the strongest threshold, `t + 1` exactly equal
/// (with `t = thresholds.len()`). Similarities pass when `>=` the threshold, distances when
/// `<=` it.
pub fn fuzzy_level(method: Fuzzy, thresholds: &[f64], a: &str, b: &str) -> i8 {
    if a.is_empty() || b.is_empty() {
        return NULL;
    }
    let t = thresholds.len();
    if a == b {
        return t as i8 + 1;
    }
    let passed = match method {
        Fuzzy::Exact => 0,
        Fuzzy::JaroWinkler | Fuzzy::Jaro => {
            let s = if method == Fuzzy::JaroWinkler {
                jaro_winkler(a, b)
            } else {
                rapidfuzz::distance::jaro::similarity(a.chars(), b.chars())
            };
            thresholds.iter().take_while(|&&x| s < x).count()
        }
        Fuzzy::Levenshtein | Fuzzy::DamerauLevenshtein => {
            // The largest threshold bounds the work: rapidfuzz stops early beyond it.
            let cutoff = thresholds.last().copied().unwrap_or(0.0) as usize;
            let d = if method == Fuzzy::Levenshtein {
                rapidfuzz::distance::levenshtein::distance_with_args(
                    a.chars(),
                    b.chars(),
                    &rapidfuzz::distance::levenshtein::Args::default().score_cutoff(cutoff),
                )
            } else {
                rapidfuzz::distance::damerau_levenshtein::distance_with_args(
                    a.chars(),
                    b.chars(),
                    &rapidfuzz::distance::damerau_levenshtein::Args::default().score_cutoff(cutoff),
                )
            };
            match d {
                Some(d) => thresholds.iter().take_while(|&&x| (d as f64) > x).count(),
                None => t,
            }
        }
    };
    // `passed` thresholds failed from the strongest down: level = t - failed.
    (t - passed.min(t)) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The comparators as first written (building the joined and whole surnames and the lists
    /// of words), to check the faster forms against.
    mod reference {
        use super::*;

        pub fn given(a: &str, b: &str) -> i8 {
            if a.is_empty() || b.is_empty() {
                return NULL;
            }
            if a == b {
                return 4;
            }
            let a1 = canonical_given(a.split(' ').next().unwrap_or(""));
            let b1 = canonical_given(b.split(' ').next().unwrap_or(""));
            let a_words: Vec<&str> = a.split(' ').map(canonical_given).collect();
            let b_words: Vec<&str> = b.split(' ').map(canonical_given).collect();
            let subset = a_words.iter().all(|w| b_words.contains(w))
                || b_words.iter().all(|w| a_words.contains(w));
            if a1 == b1 || subset {
                return 3;
            }
            let jw = jaro_winkler(a1, b1).max(jaro_winkler(a, b));
            if jw >= 0.92 {
                2
            } else if jw >= 0.80 {
                1
            } else {
                0
            }
        }

        pub fn surnames(a1: &str, a2: &str, b1: &str, b2: &str) -> i8 {
            if (a1.is_empty() && a2.is_empty()) || (b1.is_empty() && b2.is_empty()) {
                return NULL;
            }
            if a1 == b1 && a2 == b2 {
                return 5;
            }
            let a_one = a2.is_empty();
            let b_one = b2.is_empty();
            let joined_a: String = a1.chars().chain(a2.chars()).filter(|c| *c != ' ').collect();
            let joined_b: String = b1.chars().chain(b2.chars()).filter(|c| *c != ' ').collect();
            if (a1 == b1 && (a_one || b_one))
                || (!a_one && !b_one && a1 == b2 && a2 == b1)
                || joined_a == joined_b
                || (a_one && (a1 == b2 || a1 == joined_b))
                || (b_one && (b1 == a2 || b1 == joined_a))
            {
                return 4;
            }
            let one_equal = if a1 == b1 && !a_one && !b_one {
                Some((a2, b2))
            } else if !a_one && !b_one && a2 == b2 {
                Some((a1, b1))
            } else if (!a_one && a2 == b1) || (!b_one && a1 == b2) {
                Some(("", "x"))
            } else {
                None
            };
            if let Some((x, y)) = one_equal {
                return if jaro_winkler(x, y) >= 0.90 { 4 } else { 3 };
            }
            let whole_a = if a_one {
                a1.to_string()
            } else {
                format!("{a1} {a2}")
            };
            let whole_b = if b_one {
                b1.to_string()
            } else {
                format!("{b1} {b2}")
            };
            let jw = if a_one || b_one {
                jaro_winkler(a1, b1)
            } else {
                jaro_winkler(&whole_a, &whole_b)
            };
            if jw >= 0.92 {
                2
            } else if jw >= 0.80 {
                1
            } else {
                0
            }
        }
    }

    #[test]
    fn given_levels() {
        assert_eq!(compare_given("jose luis", "jose luis"), 4);
        assert_eq!(compare_given("jose", "jose luis"), 3);
        assert_eq!(compare_given("chepe", "jose"), 3);
        assert_eq!(compare_given("luis", "jose luis"), 3);
        assert_eq!(
            compare_given("jsoe", "jose"),
            1.max(compare_given("jsoe", "jose"))
        );
        assert!(compare_given("jose", "maria") <= 1);
        assert_eq!(compare_given("", "jose"), NULL);
    }

    #[test]
    fn surname_levels() {
        assert_eq!(
            compare_surnames("hernandez", "lopez", "hernandez", "lopez"),
            5
        );
        assert_eq!(compare_surnames("hernandez", "", "hernandez", "lopez"), 4);
        assert_eq!(
            compare_surnames("lopez", "hernandez", "hernandez", "lopez"),
            4
        );
        assert_eq!(
            compare_surnames("hernandezlopez", "", "hernandez", "lopez"),
            4
        );
        assert_eq!(
            compare_surnames("hernandez", "garcia", "hernandez", "lopez"),
            3
        );
        assert_eq!(
            compare_surnames("hernandes", "lopez", "hernandez", "lopez"),
            4
        );
        assert_eq!(
            compare_surnames("hernandes", "lopes", "hernandez", "lopez"),
            2
        );
        assert_eq!(
            compare_surnames("martinez", "rivas", "hernandez", "lopez"),
            0
        );
        assert_eq!(compare_surnames("", "", "hernandez", "lopez"), NULL);
    }

    #[test]
    fn date_levels() {
        assert_eq!(compare_dates("2023-04-03", "2023-04-03"), 5);
        assert_eq!(compare_dates("2023-04-03", "2023-03-04"), 4);
        assert_eq!(compare_dates("2023-04-03", "2023-04-08"), 4);
        assert_eq!(compare_dates("2023-04-03", "2023-04-28"), 3);
        assert_eq!(compare_dates("2023-04-03", "2023-04"), 2);
        assert_eq!(compare_dates("2023-04-03", "2023"), 2);
        assert_eq!(compare_dates("2023-04-03", "2022"), 1);
        assert_eq!(compare_dates("2023-04-03", "1990-01-01"), 0);
        assert_eq!(compare_dates("", "2023"), NULL);
    }

    #[test]
    fn id_and_place_levels() {
        // 00016297-5 and 12345678-4 pass the DUI check; 00016927-5 and 12345678-9 fail it.
        assert_eq!(compare_ids("00016297-5", "00016297-5"), 4);
        assert_eq!(compare_ids("00016297-5", "00016927-5"), 3);
        assert_eq!(compare_ids("00016297-5", "12345678-9"), 1);
        assert_eq!(compare_ids("00016297-5", "12345678-4"), 0);
        assert_eq!(compare_ids("V12345678", "V12345687"), 2);
        assert_eq!(compare_ids("V12345678", "V98765432"), 1);
        assert_eq!(compare_ids("", "V98765432"), NULL);
        assert_eq!(ID_LEVELS.len() as i8, compare_ids("a", "a") + 2);
        assert_eq!(compare_ages("34", "34 años"), 3);
        assert_eq!(compare_ages("34", "35"), 2);
        assert_eq!(compare_ages("36", "34"), 1);
        assert_eq!(compare_ages("34", "50"), 0);
        assert_eq!(compare_ages("34", "desconocida"), NULL);
        assert_eq!(compare_places("izalco", "izalco"), 2);
        assert_eq!(compare_places("izalco", "izalko"), 1);
        assert_eq!(compare_exact("M", "F"), 0);
    }

    proptest::proptest! {
        #[test]
        fn jaro_winkler_is_symmetric_bounded_and_agrees_with_strsim(a in "[a-z ]{0,20}", b in "[a-z ]{0,20}") {
            let x = jaro_winkler(&a, &b);
            proptest::prop_assert!((0.0..=1.0).contains(&x));
            proptest::prop_assert!((x - jaro_winkler(&b, &a)).abs() < 1e-12);
            proptest::prop_assert!((x - strsim::jaro_winkler(&a, &b)).abs() < 1e-9, "{} vs {}", x, strsim::jaro_winkler(&a, &b));
        }

        #[test]
        fn within_one_edit_is_a_damerau_distance_of_at_most_one(a in "[0-9a-c-]{0,11}", b in "[0-9a-c-]{0,11}", edit in 0usize..4, at in 0usize..12) {
            proptest::prop_assert_eq!(within_one_edit(&a, &b), damerau(&a, &b) <= 1);
            // Random strings are rarely one edit apart: also one edit of `a` itself.
            let mut e = a.clone().into_bytes();
            let i = at.min(e.len());
            match edit {
                0 if i < e.len() => e[i] = b'x',
                1 => e.insert(i, b'x'),
                2 if i < e.len() => { e.remove(i); }
                3 if i + 1 < e.len() => e.swap(i, i + 1),
                _ => {}
            }
            let e = String::from_utf8(e).unwrap();
            proptest::prop_assert_eq!(within_one_edit(&a, &e), damerau(&a, &e) <= 1);
            proptest::prop_assert!(within_one_edit(&a, &e));
        }

        #[test]
        fn name_comparators_give_the_levels_of_their_allocating_forms(a in "(jose|luis|chepe|maria|[a-z]{1,5})( (jose|luis|[a-z]{1,5})){0,9}", b in "(jose|luis|pepe|maria|[a-z]{1,5})( (jose|luis|[a-z]{1,5})){0,9}", c in "(lopez|[a-z]{0,6})", d in "(lopez|[a-z]{0,6})") {
            proptest::prop_assert_eq!(compare_given(&a, &b), reference::given(&a, &b));
            let (s1, s2) = (a.split(' ').next().unwrap_or(""), b.split(' ').next().unwrap_or(""));
            for (a1, a2, b1, b2) in [(s1, c.as_str(), s2, d.as_str()), (s1, c.as_str(), s1, d.as_str()), (c.as_str(), "", s1, d.as_str()), (s1, d.as_str(), d.as_str(), s1)] {
                proptest::prop_assert_eq!(compare_surnames(a1, a2, b1, b2), reference::surnames(a1, a2, b1, b2));
            }
        }

        #[test]
        fn comparators_are_symmetric(a in "[a-z]{0,8}", b in "[a-z]{0,8}", c in "[a-z]{0,8}", d in "[a-z]{0,8}") {
            proptest::prop_assert_eq!(compare_given(&a, &b), compare_given(&b, &a));
            proptest::prop_assert_eq!(compare_surnames(&a, &b, &c, &d), compare_surnames(&c, &d, &a, &b));
            proptest::prop_assert_eq!(compare_places(&a, &b), compare_places(&b, &a));
        }
    }

    #[test]
    fn fuzzy_levels_follow_thresholds() {
        use super::{Fuzzy, fuzzy_level};
        let jw = [0.92, 0.8];
        assert_eq!(fuzzy_level(Fuzzy::JaroWinkler, &jw, "martha", "martha"), 3);
        assert_eq!(fuzzy_level(Fuzzy::JaroWinkler, &jw, "martha", "marhta"), 2);
        assert_eq!(fuzzy_level(Fuzzy::JaroWinkler, &jw, "dixon", "dicksonx"), 1);
        assert_eq!(fuzzy_level(Fuzzy::JaroWinkler, &jw, "ana", "zoe"), 0);
        assert_eq!(fuzzy_level(Fuzzy::JaroWinkler, &jw, "", "zoe"), -1);
        let lev = [1.0, 2.0];
        assert_eq!(
            fuzzy_level(Fuzzy::Levenshtein, &lev, "19560409", "19560409"),
            3
        );
        assert_eq!(
            fuzzy_level(Fuzzy::Levenshtein, &lev, "19560409", "19560408"),
            2
        );
        assert_eq!(
            fuzzy_level(Fuzzy::Levenshtein, &lev, "19560409", "19650409"),
            1
        );
        assert_eq!(
            fuzzy_level(Fuzzy::DamerauLevenshtein, &lev, "19560409", "19650409"),
            2
        );
        assert_eq!(
            fuzzy_level(Fuzzy::Levenshtein, &lev, "19560409", "20011231"),
            0
        );
        assert_eq!(fuzzy_level(Fuzzy::Exact, &[], "a", "b"), 0);
        assert_eq!(fuzzy_level(Fuzzy::Exact, &[], "a", "a"), 1);
    }
}
