//! recuento's scalar functions for DataFusion: standardisers and comparators.
//!
//! Every function is stateless (its behaviour is fixed by its name, options travel as literal
//! arguments), so a plan that uses them can be serialised by name alone and run on Ballista
//! executors that register the same [`recuento_udfs`]. Each wraps one pure function of
//! `recuento-text`; the struct only adapts Arrow arrays to `&str`.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int8Builder, StringArray, StringBuilder, UInt32Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, UInt32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use recuento_model::DateOrder;
use recuento_text::{compare, dates, fold, ids, names, places};

/// What a function computes. One variant per SQL function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// `std_name(part, given, surname1, surname2, surnames, full_name, sex)`.
    StdName,
    /// `given1_key(given)`: first given name, nicknames resolved.
    Given1Key,
    /// `phonetic_key(name)`: Spanish phonetic key of the first word.
    PhoneticKey,
    /// `std_date(text, order)` with order `dmy` or `mdy`: ISO partial date.
    StdDate,
    /// `std_id(text)`: normalised DUI / cédula / other.
    StdId,
    /// `std_sex(text)`: `M`, `F` or null.
    StdSex,
    /// `facility_key(text)`.
    FacilityKey,
    /// `fold_text(text)`.
    FoldText,
    /// `birth_from_age(age, event_date)`: approximate birth year.
    BirthFromAge,
    /// `cmp_given(a, b)`.
    CmpGiven,
    /// `cmp_surnames(a1, a2, b1, b2)`.
    CmpSurnames,
    /// `cmp_date(a, b)`.
    CmpDate,
    /// `cmp_id(a, b)`.
    CmpId,
    /// `cmp_age(a, b)`.
    CmpAge,
    /// `cmp_place(a, b)`.
    CmpPlace,
    /// `cmp_exact(a, b)`.
    CmpExact,
}

const ALL: [(&str, Kind, usize); 16] = [
    ("std_name", Kind::StdName, 7),
    ("given1_key", Kind::Given1Key, 1),
    ("phonetic_key", Kind::PhoneticKey, 1),
    ("std_date", Kind::StdDate, 2),
    ("std_id", Kind::StdId, 1),
    ("std_sex", Kind::StdSex, 1),
    ("facility_key", Kind::FacilityKey, 1),
    ("fold_text", Kind::FoldText, 1),
    ("birth_from_age", Kind::BirthFromAge, 2),
    ("cmp_given", Kind::CmpGiven, 2),
    ("cmp_surnames", Kind::CmpSurnames, 4),
    ("cmp_date", Kind::CmpDate, 2),
    ("cmp_id", Kind::CmpId, 2),
    ("cmp_age", Kind::CmpAge, 2),
    ("cmp_place", Kind::CmpPlace, 2),
    ("cmp_exact", Kind::CmpExact, 2),
];

/// A recuento scalar function over text arguments.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TextFunc {
    name: &'static str,
    kind: Kind,
    arity: usize,
    signature: Signature,
}

/// Every recuento function, to register in a session (and on Ballista's scheduler and executors).
pub fn recuento_udfs() -> Vec<ScalarUDF> {
    std::iter::once(ScalarUDF::new_from_impl(FuzzyFunc {
        signature: Signature::user_defined(Volatility::Immutable),
    }))
    .chain(ALL.iter().map(|&(name, kind, arity)| {
        ScalarUDF::new_from_impl(TextFunc {
            name,
            kind,
            arity,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }))
    .collect()
}

/// Argument types the functions take as they come: any string type (Utf8, LargeUtf8, Utf8View:
/// Parquet reads give views), and dictionary-encoded text (`link-files` keeps compared columns
/// that way, so that gathering a pair's values copies 4-byte codes, not text). Anything else is
/// read as text.
fn text_arguments(name: &str, arity: usize, types: &[DataType]) -> Result<Vec<DataType>> {
    if types.len() != arity {
        return Err(datafusion::error::DataFusionError::Plan(format!(
            "{name} takes {arity} arguments, not {}",
            types.len()
        )));
    }
    Ok(types
        .iter()
        .map(|t| match t {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => t.clone(),
            DataType::Dictionary(k, v) if **k == DataType::UInt32 && **v == DataType::Utf8 => {
                t.clone()
            }
            _ => DataType::Utf8,
        })
        .collect())
}

/// A text argument of a function, row by row: plain text, or codes into a column's distinct
/// values (a dictionary).
enum Texts<'a> {
    Plain(&'a StringArray),
    /// Codes, the distinct values as text, and the same values as the array they came in (to
    /// tell one dictionary from another).
    Coded(&'a UInt32Array, &'a StringArray, &'a ArrayRef),
}

impl<'a> Texts<'a> {
    /// Reads an argument array (already plain `Utf8` or a `UInt32`/`Utf8` dictionary).
    fn new(a: &'a ArrayRef) -> Self {
        match a.as_dictionary_opt::<UInt32Type>() {
            Some(d) => Texts::Coded(d.keys(), d.values().as_string::<i32>(), d.values()),
            None => Texts::Plain(a.as_string::<i32>()),
        }
    }

    /// The value of row `i`, `""` when missing.
    fn value(&self, i: usize) -> &'a str {
        match self {
            Texts::Plain(s) => {
                if s.is_null(i) {
                    ""
                } else {
                    s.value(i)
                }
            }
            Texts::Coded(keys, values, _) => {
                if keys.is_null(i) {
                    ""
                } else {
                    let k = keys.value(i) as usize;
                    if values.is_null(k) {
                        ""
                    } else {
                        values.value(k)
                    }
                }
            }
        }
    }

    /// For coded arguments, whose codes point anywhere in the distinct values (the records
    /// of pairs come in any order), asks for the memory of row `i`'s value in two steps:
    /// `Where` fetches the value's position (its offset), `What`, a few rows later, the text
    /// itself, whose address needs the offset. Plain text is read in order and needs no hint.
    /// No effect on results.
    fn prefetch(&self, i: usize, step: Prefetch) {
        let (values, at) = match self {
            Texts::Plain(_) => return,
            Texts::Coded(keys, values, _) => match keys.values().get(i) {
                Some(&k) => (*values, k as usize),
                None => return,
            },
        };
        let offsets = values.value_offsets();
        match step {
            Prefetch::Where => prefetch_index::prefetch_index(offsets, at),
            Prefetch::What => {
                if let Some(&start) = offsets.get(at) {
                    prefetch_index::prefetch_index(values.value_data(), start.max(0) as usize);
                }
            }
        }
    }

    /// The code of row `i` (`u32::MAX` when missing), for coded arguments.
    fn code(&self, i: usize) -> Option<u32> {
        match self {
            Texts::Plain(_) => None,
            Texts::Coded(keys, _, _) => Some(if keys.is_null(i) {
                u32::MAX
            } else {
                keys.value(i)
            }),
        }
    }
}

/// The two steps of [`Texts::prefetch`].
#[derive(Clone, Copy)]
enum Prefetch {
    Where,
    What,
}

/// Rows ahead at which [`Texts::prefetch`] asks for a value's offset; its text is asked for at
/// half the distance.
const AHEAD: usize = 16;

/// The argument arrays as plain `Utf8` or as `UInt32`/`Utf8` dictionaries (other types cast).
fn argument_arrays(arrays: Vec<ArrayRef>) -> Result<Vec<ArrayRef>> {
    arrays
        .into_iter()
        .map(|a| match a.data_type() {
            DataType::Utf8 => Ok(a),
            DataType::Dictionary(k, v) if **k == DataType::UInt32 && **v == DataType::Utf8 => Ok(a),
            _ => Ok(cast(&a, &DataType::Utf8)?),
        })
        .collect()
}

/// `cmp_fuzzy(method, thresholds, a, b)`: the level of a pair under a similarity measure with
/// thresholds (see [`compare::fuzzy_level`]); `method` is `exact`, `jaro_winkler`, `jaro`,
/// `levenshtein` or `damerau_levenshtein`, `thresholds` a comma-separated list (`'0.92,0.8'`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FuzzyFunc {
    signature: Signature,
}

impl ScalarUDFImpl for FuzzyFunc {
    fn name(&self) -> &str {
        "cmp_fuzzy"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        text_arguments("cmp_fuzzy", 4, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        // The method and thresholds are literals: read them once, not once per row.
        let text = |i: usize| -> Option<String> {
            match &args.args[i] {
                ColumnarValue::Scalar(v) => v.try_as_str().flatten().map(str::to_string),
                ColumnarValue::Array(a) => {
                    let a = cast(a, &DataType::Utf8).ok()?;
                    let a = a.as_string::<i32>();
                    (!a.is_empty() && !a.is_null(0)).then(|| a.value(0).to_string())
                }
            }
        };
        let arrays = argument_arrays(
            args.args[2..]
                .iter()
                .map(|v| v.to_array(n))
                .collect::<Result<Vec<ArrayRef>>>()?,
        )?;
        let method = text(0)
            .as_deref()
            .and_then(compare::Fuzzy::from_key)
            .ok_or_else(|| {
                datafusion::error::DataFusionError::Plan(
                    "cmp_fuzzy: the first argument must be exact, jaro_winkler, jaro, levenshtein or damerau_levenshtein".into(),
                )
            })?;
        let thresholds: Vec<f64> = text(1)
            .unwrap_or_default()
            .split(',')
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                datafusion::error::DataFusionError::Plan(
                    "cmp_fuzzy: thresholds must be numbers separated by commas".into(),
                )
            })?;
        let strings: Vec<Texts> = arrays.iter().map(Texts::new).collect();
        // Equality is cheaper than a lookup: only the fuzzy measures are cached.
        let function = format!("cmp_fuzzy {method:?} {thresholds:?}");
        let cached = (method != compare::Fuzzy::Exact).then_some(function.as_str());
        let out = comparison_levels(n, &strings, cached, |row| {
            compare::fuzzy_level(method, &thresholds, row[0], row[1])
        });
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Most values a comparison takes (the surnames: two on each side); the width of cache keys.
const MAX_KEY: usize = 4;

/// Slots of a kept cache (a power of two): 65,536 entries of 20 bytes (1.3 MB), which fit in a
/// core's second-level cache; each slot is asked for a few rows ahead ([`KEPT_AHEAD`]). With
/// that, 65,536 slots kept more levels than 16,384 for less time (CPU of a 1,000,000-record
/// run 23.1 -> 22.5 s) and 262,144 no more (docs/benchmarks.md).
const KEPT_SLOTS: usize = 1 << 16;

/// Rows ahead at which a kept cache's slot is asked for.
const KEPT_AHEAD: usize = 8;

/// Caches kept per thread (one per function and dictionaries); the oldest goes first.
const KEPT_CACHES: usize = 8;

/// What a kept cache holds the levels of: the function with its options (method,
/// thresholds), and the dictionaries its codes point into, held so that their memory cannot
/// be reused by other values while the cache is keyed on them.
struct KeptFor {
    function: String,
    dictionaries: Vec<ArrayRef>,
}

/// Level of an empty slot.
const EMPTY: i8 = i8::MIN;

/// A kept cache: codes and level per slot.
type Kept = Vec<([u32; MAX_KEY], i8)>;

thread_local! {
    /// Per worker thread, per comparison function and dictionaries: levels by codes, kept
    /// from batch to batch in a fixed table where a new entry replaces whatever held its
    /// slot. A cache that lasted one batch computed the same name pairs again in every batch
    /// (and grew a hash table each time); one that kept every pair grew past the processor's
    /// cache and was slower than both (docs/benchmarks.md).
    static KEPT: std::cell::RefCell<Vec<(KeptFor, Kept)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The slot of `codes` in a kept cache.
fn kept_slot(codes: &[u32; MAX_KEY]) -> usize {
    let mut h: u64 = 0;
    for &c in codes {
        h = (h ^ u64::from(c)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    (h >> (64 - KEPT_SLOTS.trailing_zeros())) as usize
}

/// Runs `f` on this thread's kept cache of `function` over the dictionaries of `strings` (all
/// coded), empty when new.
fn with_kept_levels<R>(function: &str, strings: &[Texts], f: impl FnOnce(&mut Kept) -> R) -> R {
    let dictionaries: Vec<&ArrayRef> = strings
        .iter()
        .filter_map(|s| match s {
            Texts::Coded(_, _, d) => Some(*d),
            Texts::Plain(_) => None,
        })
        .collect();
    KEPT.with_borrow_mut(|kept| {
        let same = |(k, _): &(KeptFor, Kept)| {
            k.function == function
                && k.dictionaries.len() == dictionaries.len()
                && k.dictionaries
                    .iter()
                    .zip(&dictionaries)
                    .all(|(a, b)| Arc::ptr_eq(a, b))
        };
        let i = match kept.iter().position(same) {
            Some(i) => i,
            None => {
                if kept.len() >= KEPT_CACHES {
                    kept.remove(0);
                }
                kept.push((
                    KeptFor {
                        function: function.to_string(),
                        dictionaries: dictionaries.iter().map(|d| Arc::clone(d)).collect(),
                    },
                    vec![([u32::MAX; MAX_KEY], EMPTY); KEPT_SLOTS],
                ));
                kept.len() - 1
            }
        };
        f(&mut kept[i].1)
    })
}

/// Levels of `n` rows of text arguments. With `cached` (the function's name and options),
/// `level` runs about once per distinct tuple of values: names repeat a lot within blocks
/// (every `maria` / `maria jose` pair of a large block is the same comparison), and a lookup
/// costs less than a Jaro–Winkler or an edit distance. When every argument is coded (a
/// dictionary), the tuple is one of codes, looked up in the thread's kept cache ([`KEPT`]);
/// otherwise of texts, in a hash table for the batch. Without `cached` (cheap comparisons),
/// once per row.
fn comparison_levels(
    n: usize,
    strings: &[Texts],
    cached: Option<&str>,
    level: impl Fn(&[&str]) -> i8,
) -> datafusion::arrow::array::Int8Array {
    let arity = strings.len();
    let mut b = Int8Builder::with_capacity(n);
    let mut row = [""; MAX_KEY];
    let coded = strings.iter().all(|s| matches!(s, Texts::Coded(..)));
    // No comparison takes more than four values; a wider call is computed directly rather
    // than mis-keyed.
    if let Some(function) = cached.filter(|_| arity <= MAX_KEY && coded) {
        let codes_of = |i: usize| {
            let mut codes = [u32::MAX; MAX_KEY];
            for (slot, s) in codes.iter_mut().zip(strings) {
                *slot = s.code(i).unwrap_or(u32::MAX);
            }
            codes
        };
        // Slots are read at random: each row's slot is asked for a few rows ahead, so that
        // the reads overlap (no effect on results).
        let slots: Vec<u32> = (0..n).map(|i| kept_slot(&codes_of(i)) as u32).collect();
        with_kept_levels(function, strings, |kept| {
            for i in 0..n {
                if let Some(&ahead) = slots.get(i + KEPT_AHEAD) {
                    prefetch_index::prefetch_index(&*kept, ahead as usize);
                }
                let codes = codes_of(i);
                let at = slots[i] as usize;
                let l = match kept[at] {
                    (key, l) if key == codes && l != EMPTY => l,
                    _ => {
                        for (slot, s) in row.iter_mut().zip(strings) {
                            *slot = s.value(i);
                        }
                        let l = level(&row[..arity]);
                        kept[at] = (codes, l);
                        l
                    }
                };
                b.append_value(l);
            }
        });
        return b.finish();
    }
    let mut wide = vec![""; arity];
    let mut by_text: datafusion::common::HashMap<[&str; MAX_KEY], i8> =
        datafusion::common::HashMap::new();
    for i in 0..n {
        let values: &mut [&str] = if arity <= MAX_KEY {
            &mut row[..arity]
        } else {
            &mut wide
        };
        for (slot, s) in values.iter_mut().zip(strings) {
            *slot = s.value(i);
        }
        let l = if cached.is_some() && arity <= MAX_KEY {
            *by_text.entry(row).or_insert_with(|| level(&row[..arity]))
        } else {
            // Every row reads its values: dates and IDs, which are rarely shared.
            for s in strings {
                s.prefetch(i + AHEAD, Prefetch::Where);
                s.prefetch(i + AHEAD / 2, Prefetch::What);
            }
            level(values)
        };
        b.append_value(l);
    }
    b.finish()
}

impl Kind {
    fn is_comparison(self) -> bool {
        matches!(
            self,
            Kind::CmpGiven
                | Kind::CmpSurnames
                | Kind::CmpDate
                | Kind::CmpId
                | Kind::CmpAge
                | Kind::CmpPlace
                | Kind::CmpExact
        )
    }

    /// Text-valued functions; `None` means SQL NULL (empty results are NULL, so that blocking
    /// joins never pair records on a missing value).
    fn text(self, a: &[&str]) -> Option<String> {
        let out = match self {
            Kind::StdName => {
                let sex = recuento_text::normalise_sex(a[6]);
                let n = names::standardise(a[1], a[2], a[3], a[4], a[5], sex);
                match a[0] {
                    "given" => n.given,
                    "surname1" => n.surname1,
                    "surname2" => n.surname2,
                    "married" => n.married,
                    "alias" => n.alias,
                    _ => String::new(),
                }
            }
            Kind::Given1Key => names::given1_key(a[0]),
            Kind::PhoneticKey => names::phonetic_key(a[0]),
            Kind::StdDate => {
                let order = if a[1] == "mdy" {
                    DateOrder::Mdy
                } else {
                    DateOrder::Dmy
                };
                match dates::parse_date(a[0], order) {
                    Ok(Some(d)) => d.date.to_string(),
                    _ => String::new(),
                }
            }
            Kind::StdId => ids::normalise_id(a[0])
                .map(|i| i.value().to_string())
                .unwrap_or_default(),
            Kind::StdSex => recuento_text::normalise_sex(a[0]).unwrap_or("").to_string(),
            Kind::FacilityKey => places::facility_key(a[0]).unwrap_or_default(),
            Kind::FoldText => fold(a[0]),
            Kind::BirthFromAge => {
                let event = recuento_model::PartialDate::parse_iso(a[1]);
                recuento_text::parse_age(a[0])
                    .and_then(|age| dates::birth_year_from_age(age, event))
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        (!out.is_empty()).then_some(out)
    }

    fn level(self, a: &[&str]) -> i8 {
        match self {
            Kind::CmpGiven => compare::compare_given(a[0], a[1]),
            Kind::CmpSurnames => compare::compare_surnames(a[0], a[1], a[2], a[3]),
            Kind::CmpDate => compare::compare_dates(a[0], a[1]),
            Kind::CmpId => compare::compare_ids(a[0], a[1]),
            Kind::CmpAge => compare::compare_ages(a[0], a[1]),
            Kind::CmpPlace => compare::compare_places(a[0], a[1]),
            Kind::CmpExact => compare::compare_exact(a[0], a[1]),
            _ => compare::NULL,
        }
    }
}

impl ScalarUDFImpl for TextFunc {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        text_arguments(self.name, self.arity, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.kind.is_comparison() {
            DataType::Int8
        } else {
            DataType::Utf8
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = argument_arrays(ColumnarValue::values_to_arrays(&args.args)?)?;
        let strings: Vec<Texts> = arrays.iter().map(Texts::new).collect();
        let mut row: Vec<&str> = vec![""; strings.len()];
        let out: ArrayRef = if self.kind.is_comparison() {
            // Names are cached by distinct tuple. Equality costs less than a hash lookup, and
            // dates and IDs rarely repeat as pairs outside the blocks keyed on them, so caching
            // them cost more than it saved (100,000 records: training's million random pairs
            // 0.59-0.60 s cached, 0.53-0.56 s not).
            Arc::new(comparison_levels(
                n,
                &strings,
                (!matches!(self.kind, Kind::CmpExact | Kind::CmpDate | Kind::CmpId))
                    .then_some(self.name),
                |row| self.kind.level(row),
            ))
        } else {
            let mut b = StringBuilder::with_capacity(n, n * 12);
            for i in 0..n {
                for (slot, s) in row.iter_mut().zip(&strings) {
                    *slot = s.value(i);
                }
                b.append_option(self.kind.text(&row));
            }
            Arc::new(b.finish())
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[test]
    fn cached_levels_equal_levels_computed_row_by_row() {
        let names = ["maria", "maria jose", "jose", "josé", "mario", ""];
        let a: StringArray = (0..300)
            .map(|i| (i % 7 != 0).then(|| names[i % names.len()]))
            .collect();
        let b: StringArray = (0..300)
            .map(|i| (i % 11 != 0).then(|| names[(i * 5 + 1) % names.len()]))
            .collect();
        let level = |row: &[&str]| compare::compare_given(row[0], row[1]);
        let (ta, tb) = (Texts::Plain(&a), Texts::Plain(&b));
        let cached =
            comparison_levels(300, &[Texts::Plain(&a), Texts::Plain(&b)], Some("t"), level);
        let direct = comparison_levels(300, &[ta, tb], None, level);
        assert_eq!(cached, direct);
        // Coded (dictionary) arguments: cached by codes, the same levels.
        let code = |s: &StringArray| -> ArrayRef {
            cast(
                &(Arc::new(s.clone()) as ArrayRef),
                &DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
            )
            .unwrap()
        };
        let (ca, cb) = (code(&a), code(&b));
        let by_code = comparison_levels(300, &[Texts::new(&ca), Texts::new(&cb)], Some("t"), level);
        assert_eq!(by_code, direct);
        for i in 0..300 {
            let x = if a.is_null(i) { "" } else { a.value(i) };
            let y = if b.is_null(i) { "" } else { b.value(i) };
            assert_eq!(cached.value(i), compare::compare_given(x, y), "row {i}");
        }
        // Wider than the cache key: computed directly, still right.
        let p = |s| Texts::Plain(s);
        let wide = comparison_levels(
            300,
            &[p(&a), p(&b), p(&a), p(&b), p(&a)],
            Some("t"),
            |row| compare::compare_given(row[0], row[4]),
        );
        for i in 0..300 {
            let x = if a.is_null(i) { "" } else { a.value(i) };
            assert_eq!(wide.value(i), compare::compare_given(x, x), "row {i}");
        }
    }

    #[test]
    fn kept_levels_belong_to_their_function_and_dictionaries() {
        let code = |values: Vec<String>| -> ArrayRef {
            let s: StringArray = values.into_iter().map(Some).collect();
            cast(
                &(Arc::new(s) as ArrayRef),
                &DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
            )
            .unwrap()
        };
        // More distinct pairs than the cache has slots, twice over: entries replace each
        // other, and every level must still be the function's own.
        let n = 3 * KEPT_SLOTS;
        let a = code((0..n).map(|i| format!("a{}", i % 5000)).collect());
        let b = code((0..n).map(|i| format!("b{}", (i * 7) % 4999)).collect());
        let len = |row: &[&str]| (row[0].len() * 10 + row[1].len()) as i8 % 100;
        let args = [Texts::new(&a), Texts::new(&b)];
        let first = comparison_levels(n, &args, Some("len"), len);
        let again = comparison_levels(n, &args, Some("len"), len);
        let direct = comparison_levels(n, &args, None, len);
        assert_eq!(first, direct);
        assert_eq!(again, direct);
        // Another function over the same dictionaries does not read the first one's levels.
        let other = comparison_levels(n, &args, Some("seven"), |_| 7);
        assert!(other.iter().all(|l| l == Some(7)));
        // Nor does the same function over other dictionaries (equal codes, other values).
        let b2 = code((0..n).map(|i| format!("c{}", (i * 7) % 4999)).collect());
        let args2 = [Texts::new(&a), Texts::new(&b2)];
        let moved = comparison_levels(n, &args2, Some("len"), |_| 9);
        assert!(moved.iter().all(|l| l == Some(9)));
    }

    #[tokio::test]
    async fn functions_run_in_sql() {
        let ctx = SessionContext::new();
        for f in recuento_udfs() {
            ctx.register_udf(f);
        }
        let df = ctx
            .sql("SELECT std_name('surname1', '', '', '', '', 'José Luis Hernández López', '') AS s1, \
                  given1_key('Chepe') AS g, std_date('3 de abril de 2023', 'dmy') AS d, \
                  cmp_surnames('hernandez', '', 'hernandez', 'lopez') AS c, std_id('') AS i, \
                  cmp_date(NULL, '2023') AS n")
            .await
            .unwrap();
        let batches = df.collect().await.unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(
            text.contains("hernandez") && text.contains("jose") && text.contains("2023-04-03"),
            "{text}"
        );
        let b = &batches[0];
        assert_eq!(
            b.column(3)
                .as_primitive::<datafusion::arrow::datatypes::Int8Type>()
                .value(0),
            4
        );
        assert!(b.column(4).is_null(0));
        assert_eq!(
            b.column(5)
                .as_primitive::<datafusion::arrow::datatypes::Int8Type>()
                .value(0),
            -1
        );
    }
}
