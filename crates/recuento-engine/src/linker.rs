//! The linker's core, shared by the victim-list preset and the generic settings: block, compare,
//! count patterns, train, score. Everything that touches pairs streams, so memory stays bounded
//! by a few batches of pairs, not by their number.
//!
//! ```text
//! rule i self-join on its keys ─> (rid_l, rid_r) batches, in record order
//!   (blocking::RulePairs)      │ gather the compared columns by rid; drop pairs of rules < i
//!                              │ and pairs the link type excludes; levels, flags of rules > i
//!                              │ (several batches at once, written back in order)
//!                              ├─> comparisons.arrows (rid_l, rid_r, levels; Arrow IPC)
//!                              └─> pattern counts (a few hundred distinct patterns)
//!                                       │
//!                  u from random pairs ─> EM per rule ─> model
//!                                                          │
//! comparisons.arrows ─ weight table + tf adjustment ─> pairs.parquet (same order every run)
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int8Array, Int64Builder, RecordBatch,
    RecordBatchOptions,
};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Int8Type, Int64Type, Schema, SchemaRef,
};
use datafusion::prelude::ParquetReadOptions;
use futures::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_fs::{Model, TrainOptions};
use serde::Serialize;

use crate::blocking::RuleReport;
use crate::parquet_out::ParallelWriter;
use crate::spool::Spool;
use crate::{Engine, Error, Result};

/// One comparison of a linkage plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanComparison {
    /// Column name in the outputs.
    pub name: String,
    /// SQL computing the level (Int8, `-1` missing) from records `l` and `r`.
    pub sql: String,
    /// Level names, index `level + 1`.
    pub levels: Vec<String>,
    /// Record columns the comparison reads: a blocking rule on one of them fixes its agreement.
    pub columns: Vec<String>,
    /// Term-frequency adjustment, when asked for.
    pub tf: Option<TermFrequency>,
}

/// Term-frequency adjustment of one comparison (as Splink does it): on an exact agreement the
/// u probability of the level is replaced by the frequency of the value itself, so agreeing on
/// `garcia` counts for less than agreeing on `zelaya`.
#[derive(Debug, Clone, Serialize)]
pub struct TermFrequency {
    /// Record column holding the relative frequency of the record's value (0..1).
    pub column: String,
    /// The exact level; levels from `min_level` up to below it are fuzzy agreements, which are
    /// only ever adjusted downwards (a near-miss on a rare name may be a typo of a common one).
    pub exact_level: i8,
    /// Lowest level adjusted.
    pub min_level: i8,
}

/// One blocking rule of a plan: equalities between record columns, and perhaps a condition
/// over both records that the pairs the equalities find must also meet.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRule {
    /// The rule as the user wrote it.
    pub text: String,
    /// (left column, right column) equalities.
    pub conditions: Vec<(String, String)>,
    /// SQL over the two records `l` and `r` (`l.birth_date IS NULL OR r.birth_date IS NULL`),
    /// checked on each pair the equalities find: a rule can then be loose where it needs to
    /// be (same name and place) only for the pairs other rules cannot find (no birth date).
    pub filter: Option<String>,
    /// Record columns the rule fixes (to leave their comparisons out of EM on its pairs).
    pub columns: Vec<String>,
    /// When the left columns of `conditions` hold key numbers rather than text: the SQL, over
    /// the records' columns, of each left key's text (to report the largest blocks in words).
    /// Empty when the columns hold the text itself.
    pub key_text: Vec<String>,
}

/// Everything the core needs to link the registered `records` table (columns `rid` 0..n,
/// `list`, `record_id`, plus whatever the comparisons and rules read).
#[derive(Debug, Clone, Serialize)]
pub struct LinkPlan {
    /// Comparisons, in output order.
    pub comparisons: Vec<PlanComparison>,
    /// Blocking rules, OR-ed.
    pub rules: Vec<PlanRule>,
    /// Extra condition every pair must meet (SQL over `l` and `r`), from the link type.
    pub pair_filter: Option<String>,
    /// All pairs the link type allows (for λ among random pairs).
    pub total_pairs: f64,
    /// Random pairs for u.
    pub u_sample_pairs: usize,
    /// EM iterations per rule.
    pub max_em_iterations: usize,
    /// Refuse rules with a larger block.
    pub max_block_size: usize,
    /// Link threshold on the match probability.
    pub threshold: f64,
    /// Seed of the u sample.
    pub seed: u64,
    /// A trained model to score with as it is (λ, m and u frozen), instead of training: a
    /// `model.json` from an earlier run.
    pub frozen: Option<recuento_fs::Model>,
}

/// What linkage produced.
#[derive(Debug, Clone, Serialize)]
pub struct LinkOutput {
    /// Blocking rules measured before generating pairs.
    pub blocking: Vec<RuleReport>,
    /// Distinct candidate pairs scored.
    pub candidate_pairs: u64,
    /// Candidate pairs first found by each rule (a pair found by several rules counts once).
    pub pairs_by_rule: Vec<u64>,
    /// Random pairs drawn to estimate u.
    pub u_pairs: u64,
    /// The trained model.
    pub model: Model,
    /// Comparison names, in the model's order.
    pub comparisons: Vec<String>,
    /// Level names of each comparison.
    pub levels: Vec<Vec<String>>,
    /// Distinct comparison patterns among candidate pairs.
    pub patterns: usize,
    /// Pairs at or above the threshold: (rid_l, rid_r, match probability).
    pub links: Vec<(i64, i64, f64)>,
    /// The list and identifier of every record, by record number.
    pub records: RecordKeys,
    /// Seconds spent per stage: blocking+comparing, training, scoring.
    pub seconds: Vec<(String, f64)>,
}

/// The list and identifier of every record, by record number (rid). Held as two Arrow string
/// arrays (two buffers each) rather than two `String`s per record: at a million records that is
/// about 30 MB instead of 120 MB, kept while people are clustered and written out.
#[derive(Debug, Clone)]
pub struct RecordKeys {
    lists: datafusion::arrow::array::StringArray,
    ids: datafusion::arrow::array::StringArray,
}

impl RecordKeys {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The list of record `rid`.
    pub fn list(&self, rid: usize) -> &str {
        self.lists.value(rid)
    }

    /// The identifier of record `rid` within its list.
    pub fn id(&self, rid: usize) -> &str {
        self.ids.value(rid)
    }

    /// (list, identifier) of every record, in record order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        (0..self.len()).map(|i| (self.list(i), self.id(i)))
    }
}

/// One text column of the records, by record number ([`Engine::record_text_column`]).
#[derive(Debug, Clone)]
pub struct TextColumn(pub(crate) datafusion::arrow::array::StringArray);

impl TextColumn {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of record `rid`; `None` when missing or empty (or `rid` is out of range).
    pub fn get(&self, rid: usize) -> Option<&str> {
        (rid < self.0.len() && self.0.is_valid(rid))
            .then(|| self.0.value(rid))
            .filter(|v| !v.is_empty())
    }

    /// Every record's value in record order, as [`TextColumn::get`] gives it.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|rid| self.get(rid))
    }
}

impl Serialize for RecordKeys {
    /// As a sequence of `[rid, list, record_id]`.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for (i, (list, id)) in self.iter().enumerate() {
            seq.serialize_element(&(i as i64, list, id))?;
        }
        seq.end()
    }
}

/// Reports progress of long stages; the CLI draws bars, tests and libraries ignore it.
pub trait Progress: Send + Sync {
    /// A stage starts; `total` is an upper bound of the work units (0 = unknown).
    fn start(&self, stage: &str, total: u64);
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// The stage is over.
    fn finish(&self);
}

/// A [`Progress`] that says nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _stage: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Packs a pattern (levels, then rule flags) into one integer: 4 bits per level (+1, so that
/// `-1` is 0), 1 bit per rule.
fn pack(levels: &[i8], flags: &[bool]) -> u128 {
    let mut key = 0u128;
    for &l in levels {
        key = (key << 4) | ((l + 1) as u128 & 0xF);
    }
    for &f in flags {
        key = (key << 1) | u128::from(f);
    }
    key
}

fn unpack(mut key: u128, k: usize, rules: usize) -> (Vec<i8>, Vec<bool>) {
    let mut flags = vec![false; rules];
    for f in flags.iter_mut().rev() {
        *f = key & 1 == 1;
        key >>= 1;
    }
    let mut levels = vec![0i8; k];
    for l in levels.iter_mut().rev() {
        *l = (key & 0xF) as i8 - 1;
        key >>= 4;
    }
    (levels, flags)
}

/// Most comparisons and rules a plan may have (the pattern key is 128 bits).
pub const MAX_COMPARISONS: usize = 20;
/// See [`MAX_COMPARISONS`].
pub const MAX_RULES: usize = 40;

impl LinkPlan {
    /// Per rule, the SQL its pairs (from [`crate::blocking::RulePairs`]) must also meet over
    /// both records' columns, if any: the link type's condition and the rule's own condition.
    /// Not being found by an earlier rule is checked on the rules' key numbers
    /// ([`crate::blocking::RuleKeys`]), after this.
    fn own_filters(&self) -> Vec<Option<String>> {
        self.rules
            .iter()
            .map(|rule| {
                let own: Vec<String> = self
                    .pair_filter
                    .iter()
                    .map(|f| format!("({f})"))
                    .chain(rule.filter.as_deref().map(rule_condition))
                    .collect();
                (!own.is_empty()).then(|| own.join(" AND "))
            })
            .collect()
    }

    /// SQL of each comparison's level over `l` and `r`.
    fn level_sql(&self) -> Vec<String> {
        self.comparisons.iter().map(|c| c.sql.clone()).collect()
    }
}

/// SQL expressions evaluated on record pairs given by record numbers: the columns the
/// expressions read are gathered from the in-memory records (`take`), so pairs never carry
/// more than their two record numbers through a join.
#[derive(Clone)]
struct PairEvaluator {
    records: RecordBatch,
    /// (left side?, record column) of each column of a pair batch.
    columns: Vec<(bool, usize)>,
    schema: SchemaRef,
}

impl PairEvaluator {
    /// The pair batch of records `l[i]` and `r[i]`.
    fn batch(&self, l: &ArrayRef, r: &ArrayRef) -> Result<RecordBatch> {
        let columns = self
            .columns
            .iter()
            .map(|&(left, c)| take(self.records.column(c), if left { l } else { r }, None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(l.len())),
        )?)
    }
}

/// Pairs counted by packed comparison pattern ([`pack`]). Hashed by the fast, non-cryptographic
/// hasher DataFusion uses (a count per pair: with the standard library's SipHash the hashing
/// showed in profiles); the counts are sorted before anything depends on their order.
type PatternCounts = datafusion::common::HashMap<u128, u64>;

/// A rule's condition over both records as a filter: a pair meets it only when it is true
/// (not false, not unknown).
fn rule_condition(condition: &str) -> String {
    format!("(({condition}) IS TRUE)")
}

/// The parts of a filter (pairs are kept where it is true) that read one record only, as they
/// combine: what [`crate::blocking::Sided`] is made of, before each part is tested on the
/// records.
#[derive(Debug)]
enum OneSided {
    /// Nothing known from one record alone.
    Unknown,
    /// A part that reads only the left record (`true`) or only the right one.
    Part(bool, datafusion::logical_expr::Expr),
    All(Vec<OneSided>),
    AnyOf(Vec<OneSided>),
}

impl OneSided {
    /// The parts tested on every record with `marks` (which records a part is true of), or
    /// `None` when nothing is known.
    fn tested(
        self,
        marks: &dyn Fn(datafusion::logical_expr::Expr) -> Result<Vec<bool>>,
    ) -> Result<Option<crate::blocking::Sided>> {
        use crate::blocking::Sided;
        let tested = |parts: Vec<OneSided>| -> Result<Vec<Option<Sided>>> {
            parts.into_iter().map(|p| p.tested(marks)).collect()
        };
        Ok(match self {
            OneSided::Unknown => None,
            OneSided::Part(true, e) => Some(Sided::Left(marks(e)?)),
            OneSided::Part(false, e) => Some(Sided::Right(marks(e)?)),
            // What is unknown drops out of `All` and makes `AnyOf` unknown.
            OneSided::All(parts) => {
                let known: Vec<Sided> = tested(parts)?.into_iter().flatten().collect();
                (!known.is_empty()).then_some(Sided::All(known))
            }
            OneSided::AnyOf(parts) => tested(parts)?
                .into_iter()
                .collect::<Option<Vec<Sided>>>()
                .map(Sided::AnyOf),
        })
    }
}

/// [`OneSided`] parts of `expr`. `a AND b` is true only when both are, `a OR b` only when one
/// is (unknown counts as not true), and `x IS TRUE` exactly when `x` is; anything else is a
/// part when every column it reads is of one record, and unknown otherwise (and when it draws
/// random numbers, whose value per pair differs from their value per record).
fn one_sided(expr: &datafusion::logical_expr::Expr) -> OneSided {
    use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            let mut known: Vec<OneSided> = [one_sided(left), one_sided(right)]
                .into_iter()
                .filter(|p| !matches!(p, OneSided::Unknown))
                .collect();
            match known.len() {
                0 => OneSided::Unknown,
                1 => known.remove(0),
                _ => OneSided::All(known),
            }
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => match (one_sided(left), one_sided(right)) {
            (OneSided::Unknown, _) | (_, OneSided::Unknown) => OneSided::Unknown,
            (a, b) => OneSided::AnyOf(vec![a, b]),
        },
        Expr::IsTrue(inner) => one_sided(inner),
        _ if expr.is_volatile() => OneSided::Unknown,
        _ => {
            let sides: std::collections::BTreeSet<bool> = expr
                .column_refs()
                .iter()
                .map(|c| c.relation.as_ref().is_some_and(|t| t.table() == "l"))
                .collect();
            match sides.len() {
                1 => OneSided::Part(sides.contains(&true), expr.clone()),
                _ => OneSided::Unknown,
            }
        }
    }
}

/// The level in row `row` of a comparison's levels (`-1` when missing).
fn level_at(levels: &Int8Array, row: usize) -> i8 {
    if levels.is_null(row) {
        -1
    } else {
        levels.value(row)
    }
}

/// A compiled expression over pair batches.
type PairExpr = Arc<dyn datafusion::physical_expr::PhysicalExpr>;

fn evaluate(expr: &PairExpr, batch: &RecordBatch) -> Result<ArrayRef> {
    Ok(expr.evaluate(batch)?.into_array(batch.num_rows())?)
}

/// The schema SQL over a pair is written against: every record column twice, as `l.` and `r.`.
pub(crate) fn pair_schema(records: &Schema) -> Result<datafusion::common::DFSchema> {
    use datafusion::common::DFSchema;
    Ok(DFSchema::try_from_qualified_schema("l", records)?
        .join(&DFSchema::try_from_qualified_schema("r", records)?)?)
}

/// One stage of a pair filter: the condition, compiled against the few columns it reads, which
/// are all that is gathered to check it.
struct Stage {
    evaluator: PairEvaluator,
    keep: PairExpr,
}

/// Every expression a plan evaluates on pairs, compiled once against one pair schema (the
/// filters each against their own).
struct Compiled {
    evaluator: PairEvaluator,
    /// Level of each comparison.
    levels: Vec<PairExpr>,
    /// The rules' equalities by record number.
    rule_keys: crate::blocking::RuleKeys,
    /// Per rule, its condition over both records, if it has one.
    rule_conditions: Vec<Option<Stage>>,
    /// Per rule, what its pairs must meet before anything else (see [`LinkPlan::own_filters`]).
    own: Vec<Option<Stage>>,
    /// Per rule, what its pairs must meet as known from each record alone (pairs that do not
    /// are not generated).
    needs: Vec<Option<crate::blocking::Sided>>,
    /// The link type's condition alone (for the random pairs of u).
    pair_filter: Option<Stage>,
    /// Schema of the written comparisons: `rid_l, rid_r` (as `UInt32`), each level.
    out_schema: SchemaRef,
}

impl Compiled {
    /// Comparison levels of a pair batch, as `Int8` whatever type the SQL gave.
    fn compare(&self, pairs: &RecordBatch) -> Result<Vec<ArrayRef>> {
        self.levels
            .iter()
            .map(|e| {
                Ok(datafusion::arrow::compute::cast(
                    &evaluate(e, pairs)?,
                    &DataType::Int8,
                )?)
            })
            .collect()
    }

    /// Keeps the pairs of `l`, `r` that meet `stage`, if any, and, for the pairs of rule
    /// `rule`, are not found by an earlier rule: (l, r, pair batch, and for rule pairs the
    /// rules each kept pair meets). Only the pairs kept are gathered whole.
    fn filtered(
        &self,
        stage: Option<&Stage>,
        rule: Option<usize>,
        mut l: ArrayRef,
        mut r: ArrayRef,
    ) -> Result<(ArrayRef, ArrayRef, RecordBatch, Vec<u64>)> {
        if let Some(stage) = stage
            && !l.is_empty()
        {
            let keep = evaluate(&stage.keep, &stage.evaluator.batch(&l, &r)?)?;
            let keep = keep.as_boolean();
            l = datafusion::arrow::compute::filter(&l, keep)?;
            r = datafusion::arrow::compute::filter(&r, keep)?;
        }
        let mut masks = Vec::new();
        if let Some(rule) = rule
            && !l.is_empty()
        {
            let all = self.masks(rule, &l, &r)?;
            let earlier = (1u64 << rule) - 1;
            let keep: Vec<bool> = all.iter().map(|m| m & earlier == 0).collect();
            masks = all.into_iter().filter(|m| m & earlier == 0).collect();
            let keep = datafusion::arrow::array::BooleanArray::from(keep);
            l = datafusion::arrow::compute::filter(&l, &keep)?;
            r = datafusion::arrow::compute::filter(&r, &keep)?;
        }
        let pairs = self.evaluator.batch(&l, &r)?;
        Ok((l, r, pairs, masks))
    }

    /// The rules each pair (`l[i]`, `r[i]`) of rule `rule` meets, as bits (rule `j`: bit `j`):
    /// their equalities on the key numbers, then their conditions, for the rules that have
    /// one, on the pairs that meet the equalities. Rule `rule`'s own condition is the caller's.
    fn masks(&self, rule: usize, l: &ArrayRef, r: &ArrayRef) -> Result<Vec<u64>> {
        let (ls, rs) = (
            l.as_primitive::<Int64Type>().values(),
            r.as_primitive::<Int64Type>().values(),
        );
        // The records' rows are read at random: the processor is asked for the rows of the
        // pair a few places on while it checks this one, so that the reads overlap instead of
        // waiting one after the other (docs/benchmarks.md).
        const AHEAD: usize = 8;
        let mut masks: Vec<u64> = Vec::with_capacity(ls.len());
        for (i, (&a, &b)) in ls.iter().zip(rs).enumerate() {
            if let (Some(&pa), Some(&pb)) = (ls.get(i + AHEAD), rs.get(i + AHEAD)) {
                self.rule_keys.prefetch(pa as usize);
                self.rule_keys.prefetch(pb as usize);
            }
            masks.push(self.rule_keys.masks(a as usize, b as usize));
        }
        for (j, condition) in self.rule_conditions.iter().enumerate() {
            let Some(stage) = condition.as_ref().filter(|_| j != rule) else {
                continue;
            };
            let bit = 1u64 << j;
            let rows: Vec<u32> = (0..masks.len() as u32)
                .filter(|&i| masks[i as usize] & bit != 0)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let rows = datafusion::arrow::array::UInt32Array::from(rows);
            let (l, r) = (take(l, &rows, None)?, take(r, &rows, None)?);
            let holds = evaluate(&stage.keep, &stage.evaluator.batch(&l, &r)?)?;
            let holds = holds.as_boolean();
            for (k, &row) in rows.values().iter().enumerate() {
                if !(holds.is_valid(k) && holds.value(k)) {
                    masks[row as usize] &= !bit;
                }
            }
        }
        Ok(masks)
    }
}

/// How `pairs.parquet` is encoded: [`Compression::SNAPPY`], which every Parquet reader knows,
/// and plain values, without dictionaries and without statistics. Writing is the costliest part
/// of scoring; dictionaries cost a hash lookup per value and, measured at 100,000 records, made
/// the write 60% slower for a file only a quarter smaller (12 MB against 17 MB; uncompressed
/// with dictionaries it was about 35 MB). Minimum and maximum values per page and row group
/// (the default) let a reader skip row groups, but the pairs come in blocking order, so every
/// row group spans nearly the whole range of every column and nothing would be skipped;
/// computing them (a string comparison per value for the identifiers) took about a tenth of
/// scoring at 1,000,000 records (docs/benchmarks.md).
///
/// The identifiers are written from Arrow string views (see [`Scoring::score`]); the Arrow
/// schema is left out of the file so that readers see them as the plain strings Parquet
/// stores, not as a view type older readers do not know. Nothing else depends on it: the
/// column types (8-bit levels, 64-bit numbers, strings) and which columns may be empty are
/// Parquet's own.
///
/// [`Compression::SNAPPY`]: datafusion::parquet::basic::Compression::SNAPPY
fn pairs_writer_options() -> datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions {
    let properties = datafusion::parquet::file::properties::WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_statistics_enabled(datafusion::parquet::file::properties::EnabledStatistics::None)
        .set_compression(datafusion::parquet::basic::Compression::SNAPPY)
        .build();
    datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions::new()
        .with_properties(properties)
        .with_skip_arrow_metadata(true)
}

/// Batches handed to the runtime's worker threads at once: two per core, so that a core never
/// waits for the next batch while results are taken in order.
fn in_flight() -> usize {
    2 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Comparison patterns of a batch of record pairs (`rid_l`, `rid_r`) that pass the link
/// type's filter, counted by packed key (no rule flags).
fn count_patterns(compiled: &Compiled, part: &RecordBatch) -> Result<PatternCounts> {
    let (_, _, pairs, _) = compiled.filtered(
        compiled.pair_filter.as_ref(),
        None,
        part.column(0).clone(),
        part.column(1).clone(),
    )?;
    let level_cols = compiled.compare(&pairs)?;
    let arrays: Vec<_> = level_cols
        .iter()
        .map(|c| c.as_primitive::<Int8Type>())
        .collect();
    let mut counts: PatternCounts = PatternCounts::default();
    let mut levels = vec![0i8; arrays.len()];
    for row in 0..pairs.num_rows() {
        for (l, c) in levels.iter_mut().zip(&arrays) {
            *l = level_at(c, row);
        }
        *counts.entry(pack(&levels, &[])).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Compares one batch of rule `rule`'s joined pairs: the batch to write (`rid_l, rid_r`,
/// levels) and its pattern counts, or `None` when the filter left no pair.
fn compare_batch(
    compiled: &Compiled,
    rule: usize,
    batch: &RecordBatch,
) -> Result<Option<(RecordBatch, PatternCounts)>> {
    let (l, r, pairs, masks) = compiled.filtered(
        compiled.own[rule].as_ref(),
        Some(rule),
        batch.column(0).clone(),
        batch.column(1).clone(),
    )?;
    let n = pairs.num_rows();
    if n == 0 {
        return Ok(None);
    }
    let level_cols = compiled.compare(&pairs)?;
    let rules = compiled.own.len();
    let level_arrays: Vec<_> = level_cols
        .iter()
        .map(|c| c.as_primitive::<Int8Type>())
        .collect();
    let mut levels = vec![0i8; level_arrays.len()];
    let mut flags = vec![false; rules];
    flags[rule] = true;
    let mut counts = PatternCounts::default();
    for (row, mask) in masks.iter().enumerate() {
        for (l, c) in levels.iter_mut().zip(&level_arrays) {
            *l = level_at(c, row);
        }
        // Flags of later rules (earlier ones are false by the filter, this one true).
        for (j, f) in flags.iter_mut().enumerate().skip(rule + 1) {
            *f = mask & (1 << j) != 0;
        }
        *counts.entry(pack(&levels, &flags)).or_insert(0) += 1;
    }
    let mut columns = vec![
        datafusion::arrow::compute::cast(&l, &DataType::UInt32)?,
        datafusion::arrow::compute::cast(&r, &DataType::UInt32)?,
    ];
    columns.extend(level_cols);
    Ok(Some((
        RecordBatch::try_new(compiled.out_schema.clone(), columns)?,
        counts,
    )))
}

/// Match weights of compared pairs under a trained model, computed batch by batch: a table of
/// log2(m/u) per comparison level, plus the term-frequency adjustment.
struct Scorer {
    prior: f64,
    /// Per comparison: weight of each level (index = level).
    weights: Vec<Vec<f64>>,
    /// Per comparison with term-frequency adjustment: (exact level, lowest adjusted level, u of
    /// the exact level).
    tf: Vec<Option<(i8, i8, f64)>>,
}

impl Scorer {
    fn new(plan: &LinkPlan, model: &Model) -> Scorer {
        let weights: Vec<Vec<f64>> = model
            .m
            .iter()
            .zip(&model.u)
            .map(|(m, u)| m.iter().zip(u).map(|(m, u)| (m / u).log2()).collect())
            .collect();
        let tf = plan
            .comparisons
            .iter()
            .enumerate()
            .map(|(k, c)| {
                c.tf.as_ref().map(|tf| {
                    let u_exact = model.u[k]
                        .get(tf.exact_level.max(0) as usize)
                        .copied()
                        .unwrap_or(1.0);
                    (tf.exact_level, tf.min_level, u_exact)
                })
            })
            .collect();
        Scorer {
            prior: model.prior_weight(),
            weights,
            tf,
        }
    }

    /// The weight of comparison `k` at `level`, given the pair's term frequency `tf` (the more
    /// frequent of the two values): on an exact agreement, log2(u_exact / tf) replaces the
    /// level's u; on a fuzzy agreement the adjustment only ever lowers the weight (a near-miss
    /// on a rare name may be a typo of a common one). Missing levels weigh 0.
    #[cfg(test)]
    fn weight(&self, k: usize, level: i8, tf: Option<f64>) -> f64 {
        self.adjusted(k, level, tf.and_then(|f| self.adjustment(k, f)))
    }

    /// log2(u_exact / `f`) of comparison `k`, or `None` when `k` has no term-frequency
    /// adjustment or `f` is not a frequency.
    fn adjustment(&self, k: usize, f: f64) -> Option<f64> {
        match self.tf[k] {
            Some((_, _, u_exact)) if f > 0.0 => Some((u_exact / f).log2()),
            _ => None,
        }
    }

    /// [`Scorer::weight`] given the adjustment `adj` ([`Scorer::adjustment`]) instead of the
    /// frequency.
    fn adjusted(&self, k: usize, level: i8, adj: Option<f64>) -> f64 {
        let Ok(index) = usize::try_from(level) else {
            return 0.0;
        };
        let base = self.weights[k].get(index).copied().unwrap_or(0.0);
        match (self.tf[k], adj) {
            (Some((exact, min, _)), Some(adj)) => {
                if level == exact {
                    base + adj
                } else if level >= min {
                    base + adj.min(0.0)
                } else {
                    base
                }
            }
            _ => base,
        }
    }
}

/// The term-frequency adjustments of every record, laid out for scoring pairs in any order.
///
/// A pair's frequency is the larger of its two records' (the more common value, the weaker
/// the evidence), or the one it has when the other is missing. Frequencies take few distinct
/// values (a value's count over the number of records), so each record holds the rank of its
/// frequency among the distinct ones, and the adjustment of each rank is computed once: the
/// larger frequency is the larger rank, and no logarithm is taken per pair. The ranks of all
/// adjusted comparisons of a record sit side by side, so a pair reads one cache line per
/// record instead of one per comparison.
struct Frequencies {
    /// Adjusted comparisons per record.
    width: usize,
    /// `ranks[rid * width + j]`: 1 + the rank of record `rid`'s frequency for the `j`th
    /// adjusted comparison, 0 when it has none.
    ranks: Vec<u32>,
    /// Per comparison: its slot `j`, when adjusted.
    slot: Vec<Option<usize>>,
    /// Per slot, the adjustment of each rank + 1 (index 0: none).
    adjustments: Vec<Vec<Option<f64>>>,
}

impl Frequencies {
    /// From each comparison's frequency column over the records (`None`: not adjusted).
    fn new(scorer: &Scorer, columns: &[Option<Float64Array>], records: usize) -> Frequencies {
        let adjusted: Vec<(usize, &Float64Array)> = columns
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.as_ref().map(|c| (k, c)))
            .collect();
        let width = adjusted.len();
        let mut ranks = vec![0u32; records * width];
        let mut slot = vec![None; columns.len()];
        let mut adjustments = Vec::with_capacity(width);
        for (j, &(k, values)) in adjusted.iter().enumerate() {
            slot[k] = Some(j);
            let mut distinct: Vec<f64> = values.iter().flatten().collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup_by(|a, b| a.total_cmp(b).is_eq());
            for (rid, v) in values.iter().enumerate().take(records) {
                if let Some(v) = v {
                    let rank = distinct.partition_point(|d| d.total_cmp(&v).is_lt());
                    ranks[rid * width + j] = rank as u32 + 1;
                }
            }
            adjustments.push(
                std::iter::once(None)
                    .chain(distinct.iter().map(|&f| scorer.adjustment(k, f)))
                    .collect(),
            );
        }
        Frequencies {
            width,
            ranks,
            slot,
            adjustments,
        }
    }
}

/// A link: record numbers `l < r` and the pair's match probability.
type Link = (i64, i64, f64);

/// What scoring a batch of compared pairs needs, shared by the worker threads.
struct Scoring {
    scorer: Scorer,
    /// Per comparison: its name (the level column).
    comparisons: Vec<String>,
    /// The records' term frequencies.
    frequencies: Frequencies,
    /// List and identifier of every record, by record number (string views).
    list_names: ArrayRef,
    record_ids: ArrayRef,
    /// Schema of pairs.parquet.
    schema: SchemaRef,
    threshold: f64,
}

impl Scoring {
    /// A batch of the comparisons file as rows of pairs.parquet (identifiers, levels, each
    /// comparison's weight, match weight and probability), and its links (pairs at or above
    /// the threshold).
    fn score(&self, batch: &RecordBatch) -> Result<(RecordBatch, Vec<Link>)> {
        let in_schema = batch.schema();
        let col = |name: &str| -> Result<ArrayRef> {
            Ok(batch.column(in_schema.index_of(name)?).clone())
        };
        let rid_l = datafusion::arrow::compute::cast(&col("rid_l")?, &DataType::Int64)?;
        let rid_r = datafusion::arrow::compute::cast(&col("rid_r")?, &DataType::Int64)?;
        let (l, r) = (
            rid_l.as_primitive::<Int64Type>(),
            rid_r.as_primitive::<Int64Type>(),
        );
        let n = batch.num_rows();
        let mut columns: Vec<ArrayRef> = vec![
            rid_l.clone(),
            rid_r.clone(),
            take(&self.list_names, l, None)?,
            take(&self.record_ids, l, None)?,
            take(&self.list_names, r, None)?,
            take(&self.record_ids, r, None)?,
        ];
        let levels = self
            .comparisons
            .iter()
            .map(|name| col(name))
            .collect::<Result<Vec<_>>>()?;
        let level_arrays: Vec<&Int8Array> = levels
            .iter()
            .map(|c| c.as_primitive::<Int8Type>())
            .collect();
        // First each pair's frequency ranks alone, in a loop of independent reads: the
        // records' rows are read at random, and with the weights computed in the same loop the
        // processor waited on each read in turn (half the time of this function, under
        // `perf annotate`). Then, pair by pair, each comparison's weight into its own column,
        // summed in comparison order.
        let f = &self.frequencies;
        let w = f.width;
        let mut pair_ranks = vec![0u32; n * w];
        for (out, (&a, &b)) in pair_ranks
            .chunks_exact_mut(w.max(1))
            .zip(l.values().iter().zip(r.values()))
        {
            let (a, b) = (a as usize * w, b as usize * w);
            for ((o, &x), &y) in out
                .iter_mut()
                .zip(&f.ranks[a..a + w])
                .zip(&f.ranks[b..b + w])
            {
                *o = x.max(y);
            }
        }
        let mut weights: Vec<Vec<f64>> = (0..levels.len()).map(|_| Vec::with_capacity(n)).collect();
        let mut total = Vec::with_capacity(n);
        for i in 0..n {
            let ranks = &pair_ranks[i * w..(i + 1) * w];
            let mut sum = self.scorer.prior;
            for (k, (lv, mw)) in level_arrays.iter().zip(weights.iter_mut()).enumerate() {
                let level = level_at(lv, i);
                let adj = f.slot[k].and_then(|j| f.adjustments[j][ranks[j] as usize]);
                let weight = self.scorer.adjusted(k, level, adj);
                sum += weight;
                mw.push(weight);
            }
            total.push(sum);
        }
        for (levels, mw) in levels.into_iter().zip(weights) {
            columns.push(levels);
            columns.push(Arc::new(Float64Array::from(mw)));
        }
        let probability: Vec<f64> = total.iter().map(|&w| recuento_fs::probability(w)).collect();
        let links = probability
            .iter()
            .enumerate()
            .filter(|&(_, &p)| p >= self.threshold)
            .map(|(i, &p)| (l.value(i), r.value(i), p))
            .collect();
        columns.push(Arc::new(Float64Array::from(total)));
        columns.push(Arc::new(Float64Array::from(probability)));
        Ok((RecordBatch::try_new(self.schema.clone(), columns)?, links))
    }
}

impl Engine {
    /// The `records` table as one batch in record-number order (the records pairs are looked
    /// up in). Tables the generic loader built are kept in memory already and not copied.
    pub(crate) async fn records_batch(&self) -> Result<RecordBatch> {
        if let Some(b) = self.records_cache.lock().ok().and_then(|c| c.clone()) {
            return Ok(b);
        }
        let df = self.ctx.table("records").await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let batch = concat_batches(&schema, &batches)?;
        let ordered = |b: &RecordBatch| -> Result<bool> {
            let rid = b.column(b.schema().index_of("rid")?).clone();
            Ok(rid
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .enumerate()
                .all(|(i, &v)| v == i as i64))
        };
        if ordered(&batch)? {
            return Ok(batch);
        }
        let rid = batch.column(schema.index_of("rid")?).clone();
        let order = datafusion::arrow::compute::sort_to_indices(&rid, None, None)?;
        let batch = datafusion::arrow::compute::take_record_batch(&batch, &order)?;
        if !ordered(&batch)? {
            return Err(Error::Plan(
                "internal: record numbers are not 0..n (please report)".into(),
            ));
        }
        Ok(batch)
    }

    /// Compiles every pair expression of `plan` against the columns of `records`.
    fn compile(
        &self,
        plan: &LinkPlan,
        records: &RecordBatch,
        rule_keys: crate::blocking::RuleKeys,
    ) -> Result<Compiled> {
        use datafusion::common::{DFSchema, TableReference};
        let schema = records.schema();
        let full = pair_schema(&schema)?;
        let parse = |sql: &str| -> Result<datafusion::logical_expr::Expr> {
            Ok(self.ctx.parse_sql_expr(sql, &full)?)
        };
        let levels = plan
            .level_sql()
            .iter()
            .map(|s| parse(s))
            .collect::<Result<Vec<_>>>()?;
        let own = plan
            .own_filters()
            .iter()
            .map(|f| f.as_deref().map(parse).transpose())
            .collect::<Result<Vec<_>>>()?;
        let conditions = plan
            .rules
            .iter()
            .map(|r| {
                r.filter
                    .as_deref()
                    .map(|f| parse(&rule_condition(f)))
                    .transpose()
            })
            .collect::<Result<Vec<_>>>()?;
        let pair_filter = plan.pair_filter.as_deref().map(parse).transpose()?;
        // Only the columns some expression reads are gathered for each pair: an evaluator
        // over those columns, and the schema to compile the expressions against.
        let narrow =
            |exprs: &[&datafusion::logical_expr::Expr]| -> Result<(PairEvaluator, DFSchema)> {
                let mut used = std::collections::BTreeSet::new();
                for e in exprs {
                    for c in e.column_refs() {
                        let left = c.relation.as_ref().is_some_and(|t| t.table() == "l");
                        used.insert((!left, schema.index_of(&c.name)?));
                    }
                }
                let columns: Vec<(bool, usize)> = used.into_iter().map(|(r, c)| (!r, c)).collect();
                let reduced = DFSchema::new_with_metadata(
                    columns
                        .iter()
                        .map(|&(left, c)| {
                            (
                                Some(TableReference::bare(if left { "l" } else { "r" })),
                                Arc::new(schema.field(c).clone()),
                            )
                        })
                        .collect(),
                    HashMap::new(),
                )?;
                let evaluator = PairEvaluator {
                    records: records.clone(),
                    columns,
                    schema: Arc::new(reduced.as_arrow().clone()),
                };
                Ok((evaluator, reduced))
            };
        let stage = |e: datafusion::logical_expr::Expr| -> Result<Stage> {
            let (evaluator, reduced) = narrow(&[&e])?;
            Ok(Stage {
                evaluator,
                keep: self.ctx.create_physical_expr(e, &reduced)?,
            })
        };
        // The one-sided parts of each rule's own filter, tested once per record.
        let every: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
            0..records.num_rows() as i64,
        ));
        let marks = |e: datafusion::logical_expr::Expr| -> Result<Vec<bool>> {
            let test = stage(datafusion::logical_expr::Expr::IsTrue(Box::new(e)))?;
            let truth = evaluate(&test.keep, &test.evaluator.batch(&every, &every)?)?;
            let truth = truth.as_boolean();
            Ok((0..truth.len())
                .map(|i| truth.is_valid(i) && truth.value(i))
                .collect())
        };
        let needs = own
            .iter()
            .map(|f| match f {
                Some(e) => one_sided(e).tested(&marks),
                None => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        let whole: Vec<&datafusion::logical_expr::Expr> = levels.iter().collect();
        let (evaluator, reduced) = narrow(&whole)?;
        let physical = |e: datafusion::logical_expr::Expr| -> Result<PairExpr> {
            Ok(self.ctx.create_physical_expr(e, &reduced)?)
        };
        let mut fields = vec![
            Field::new("rid_l", DataType::UInt32, false),
            Field::new("rid_r", DataType::UInt32, false),
        ];
        for c in &plan.comparisons {
            fields.push(Field::new(&c.name, DataType::Int8, true));
        }
        Ok(Compiled {
            evaluator,
            levels: levels.into_iter().map(physical).collect::<Result<_>>()?,
            rule_keys,
            rule_conditions: conditions
                .into_iter()
                .map(|c| c.map(stage).transpose())
                .collect::<Result<_>>()?,
            own: own
                .into_iter()
                .map(|f| f.map(stage).transpose())
                .collect::<Result<_>>()?,
            needs,
            pair_filter: pair_filter.map(stage).transpose()?,
            out_schema: Arc::new(Schema::new(fields)),
        })
    }

    /// Generates, compares and counts every candidate pair, rule after rule, into
    /// `path`: (pattern counts with rule flags, pairs first found per rule, whether any pair
    /// was written).
    ///
    /// Each rule's pairs are generated in record order ([`crate::blocking::RulePairs`]), so
    /// they come in the same order on every run; the comparisons, the costly part, run on
    /// several batches at once and are written back in that order. The outputs are then the
    /// same, byte for byte, run after run.
    async fn compare_candidates(
        &self,
        plan: &LinkPlan,
        compiled: &Arc<Compiled>,
        path: &Path,
        upper: u64,
    ) -> Result<(PatternCounts, Vec<u64>, bool)> {
        let mut counts: PatternCounts = PatternCounts::default();
        let mut pairs_by_rule = vec![0u64; plan.rules.len()];
        let mut writer: Option<Spool> = None;
        self.progress.start("comparing candidate pairs", upper);
        for (i, found) in pairs_by_rule.iter_mut().enumerate() {
            let pairs = crate::blocking::RulePairs::new(&compiled.rule_keys, i)
                .needing(compiled.needs[i].as_ref());
            let mut compared = futures::stream::iter(pairs)
                .map(|batch| {
                    let compiled = compiled.clone();
                    // On the runtime's worker threads (one per core), not extra blocking
                    // threads: each thread that allocates gets its own malloc arena, and more
                    // arenas hold more memory for the same work.
                    tokio::spawn(async move {
                        let (batch, generated) = batch?;
                        Ok::<_, Error>((generated, compare_batch(&compiled, i, &batch)?))
                    })
                })
                .buffered(in_flight());
            while let Some(done) = compared.next().await {
                let (generated, result) =
                    done.map_err(crate::task_stopped("comparing pairs"))??;
                if let Some((batch, batch_counts)) = result {
                    *found += batch.num_rows() as u64;
                    for (key, n) in batch_counts {
                        *counts.entry(key).or_insert(0) += n;
                    }
                    let spool = match writer.as_mut() {
                        Some(spool) => spool,
                        None => writer.insert(Spool::create(path, &compiled.out_schema)?),
                    };
                    spool.write(batch)?;
                }
                self.progress.advance(generated);
            }
        }
        self.progress.finish();
        let written = match writer {
            Some(spool) => {
                spool.close()?;
                true
            }
            None => false,
        };
        Ok((counts, pairs_by_rule, written))
    }

    /// Sets how long stages report progress.
    pub fn set_progress(&mut self, progress: Arc<dyn Progress>) {
        self.progress = progress;
    }

    /// u from seeded random pairs, then m and λ by EM per blocking rule.
    ///
    /// The random pairs (a million by default) cost as much to compare as the candidate
    /// pairs of a large list, so their slices are compared on the runtime's worker threads, like
    /// the candidates. Only pattern counts come back, and sums do not depend on the order in
    /// which slices finish, so u is the same on every run.
    async fn train(
        &self,
        plan: &LinkPlan,
        compiled: &Arc<Compiled>,
        rules: &[recuento_fs::RulePatterns],
        patterns: &[(Vec<i8>, u64)],
    ) -> Result<(recuento_fs::Model, u64)> {
        let k = plan.comparisons.len();
        let n = compiled.evaluator.records.num_rows() as i64;
        let sample = sample_pairs(n, plan.u_sample_pairs, plan.seed);
        let u_count = sample.num_rows() as u64;
        let level_counts: Vec<usize> = plan
            .comparisons
            .iter()
            .map(|c| c.levels.len() - 1)
            .collect();
        // Compared in slices, so the gathered columns stay a batch's worth.
        let slices: Vec<RecordBatch> = (0..sample.num_rows())
            .step_by(8192)
            .map(|o| sample.slice(o, 8192.min(sample.num_rows() - o)))
            .collect();
        let mut counted = futures::stream::iter(slices)
            .map(|part| {
                let compiled = compiled.clone();
                tokio::spawn(async move { count_patterns(&compiled, &part) })
            })
            .buffer_unordered(in_flight());
        let mut random: PatternCounts = PatternCounts::default();
        while let Some(done) = counted.next().await {
            let part = done.map_err(crate::task_stopped("comparing random pairs"))??;
            for (key, c) in part {
                *random.entry(key).or_insert(0) += c;
            }
        }
        let mut random: Vec<(Vec<i8>, u64)> = random
            .into_iter()
            .map(|(key, c)| (unpack(key, k, 0).0, c))
            .collect();
        random.sort();
        let u = recuento_fs::u_from_counts(&level_counts, &random);
        let model = recuento_fs::train_by_rules(
            &level_counts,
            rules,
            patterns,
            plan.total_pairs,
            u,
            &TrainOptions {
                max_iterations: plan.max_em_iterations,
                ..TrainOptions::default()
            },
        )?;
        Ok((model, u_count))
    }

    /// A saved model, checked against the plan's comparisons: the same number of comparisons
    /// and of levels in each.
    fn check_frozen(
        &self,
        plan: &LinkPlan,
        frozen: &recuento_fs::Model,
    ) -> Result<recuento_fs::Model> {
        let fits = frozen.m.len() == plan.comparisons.len()
            && frozen.u.len() == plan.comparisons.len()
            && plan
                .comparisons
                .iter()
                .zip(frozen.m.iter().zip(&frozen.u))
                .all(|(c, (m, u))| m.len() == c.levels.len() - 1 && u.len() == m.len());
        if !fits {
            return Err(Error::Plan(
                "the saved model was trained with other comparisons or comparison levels than these settings; train again (link-files --retrain, or the TOML settings)".into(),
            ));
        }
        Ok(frozen.clone())
    }

    /// Blocks, compares, trains and scores the registered `records` table by `plan`: writes
    /// `out_dir/pairs.parquet` (every candidate pair with its comparison levels, per-comparison
    /// match weights, match weight and match probability) and returns the pairs at or above the
    /// threshold.
    ///
    /// # Errors
    /// Bad or exploding blocking rules, no candidate pairs, failures writing outputs.
    pub async fn run_link(&self, plan: &LinkPlan, out_dir: &Path) -> Result<LinkOutput> {
        if plan.comparisons.len() > MAX_COMPARISONS || plan.rules.len() > MAX_RULES {
            return Err(Error::Plan(format!(
                "at most {MAX_COMPARISONS} comparisons and {MAX_RULES} blocking rules are supported"
            )));
        }
        let started = std::time::Instant::now();
        let records = self.records_batch().await?;
        let conditions: Vec<&[(String, String)]> =
            plan.rules.iter().map(|r| r.conditions.as_slice()).collect();
        let rule_keys = crate::blocking::RuleKeys::new(&records, &conditions)?;
        let blocking = self
            .measure_rules(plan, &rule_keys, &records, plan.max_block_size)
            .await?;
        for r in &blocking {
            tracing::info!(rule = %r.rule, pairs = r.pairs, "blocking rule measured");
        }
        let upper: u64 = blocking.iter().map(|r| r.pairs).sum();

        // One streaming pass per rule: compare, write levels, count patterns.
        let k = plan.comparisons.len();
        let nr = plan.rules.len();
        let comparisons_path = out_dir.join("comparisons.arrows");
        let compiled = Arc::new(self.compile(plan, &records, rule_keys)?);
        let (counts, pairs_by_rule, written) = self
            .compare_candidates(plan, &compiled, &comparisons_path, upper)
            .await?;
        if !written {
            return Err(recuento_fs::Error::NoPairs.into());
        }
        let compared = started.elapsed().as_secs_f64();

        // Patterns overall and per rule.
        let mut all: HashMap<Vec<i8>, u64> = HashMap::new();
        let mut per_rule: Vec<HashMap<Vec<i8>, u64>> = vec![HashMap::new(); nr];
        for (&key, &n) in &counts {
            let (levels, flags) = unpack(key, k, nr);
            for (j, f) in flags.iter().enumerate() {
                if *f {
                    *per_rule[j].entry(levels.clone()).or_insert(0) += n;
                }
            }
            *all.entry(levels).or_insert(0) += n;
        }
        let sorted = |m: HashMap<Vec<i8>, u64>| {
            let mut v: Vec<(Vec<i8>, u64)> = m.into_iter().collect();
            v.sort();
            v
        };
        let patterns = sorted(all);
        let candidate_pairs: u64 = patterns.iter().map(|p| p.1).sum();
        tracing::info!(
            candidate_pairs,
            patterns = patterns.len(),
            "candidate pairs compared"
        );
        let rules: Vec<recuento_fs::RulePatterns> = plan
            .rules
            .iter()
            .zip(per_rule)
            .map(|(r, m)| recuento_fs::RulePatterns {
                patterns: sorted(m),
                blocked: plan
                    .comparisons
                    .iter()
                    .map(|c| c.columns.iter().any(|col| r.columns.contains(col)))
                    .collect(),
            })
            .collect();

        let (model, u_count) = match &plan.frozen {
            Some(frozen) => (self.check_frozen(plan, frozen)?, 0),
            None => self.train(plan, &compiled, &rules, &patterns).await?,
        };
        tracing::info!(
            iterations = model.iterations,
            converged = model.converged,
            lambda = model.lambda,
            "EM finished"
        );
        let trained = started.elapsed().as_secs_f64() - compared;

        // Score every pair, streaming, and keep the links. The weights are table lookups, done
        // here batch by batch, in the order the pairs were compared.
        let column_text = |name: &str| -> Result<ArrayRef> {
            let c = records.column(records.schema().index_of(name)?);
            Ok(datafusion::arrow::compute::cast(c, &DataType::Utf8)?)
        };
        let list_names = column_text("list")?;
        let record_ids = column_text("record_id")?;
        // For pairs.parquet the identifiers are gathered as string views: a view of a short
        // text holds the text itself, of a longer one where it lies in the records' buffer, so
        // gathering them per pair copies 16 bytes and no text (scoring 4.05 -> 3.68 s at
        // 1,000,000 records, docs/benchmarks.md).
        let view = |c: &ArrayRef| -> Result<ArrayRef> {
            Ok(datafusion::arrow::compute::cast(c, &DataType::Utf8View)?)
        };
        let scorer = Scorer::new(plan, &model);
        let frequency_columns = plan
            .comparisons
            .iter()
            .map(|c| -> Result<Option<Float64Array>> {
                let Some(tf) = &c.tf else {
                    return Ok(None);
                };
                let values = records.column(records.schema().index_of(&tf.column)?);
                let values = datafusion::arrow::compute::cast(values, &DataType::Float64)?;
                Ok(Some(values.as_primitive::<Float64Type>().clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        let frequencies = Frequencies::new(&scorer, &frequency_columns, records.num_rows());
        let pairs_path = out_dir.join("pairs.parquet");
        let mut links = Vec::new();
        {
            // Read back in the order written, so that pairs.parquet is the same on every run.
            let reader = crate::spool::read(&comparisons_path)?;
            let mut fields = vec![
                Field::new("rid_l", DataType::Int64, false),
                Field::new("rid_r", DataType::Int64, false),
                Field::new("list_l", DataType::Utf8View, false),
                Field::new("record_id_l", DataType::Utf8View, false),
                Field::new("list_r", DataType::Utf8View, false),
                Field::new("record_id_r", DataType::Utf8View, false),
            ];
            for c in &plan.comparisons {
                fields.push(Field::new(&c.name, DataType::Int8, true));
                fields.push(Field::new(
                    format!("mw_{}", c.name),
                    DataType::Float64,
                    false,
                ));
            }
            fields.push(Field::new("match_weight", DataType::Float64, false));
            fields.push(Field::new("match_probability", DataType::Float64, false));
            let schema = Arc::new(Schema::new(fields));
            let mut writer =
                ParallelWriter::create(&pairs_path, schema.clone(), pairs_writer_options())?;
            let scoring = Arc::new(Scoring {
                scorer,
                comparisons: plan.comparisons.iter().map(|c| c.name.clone()).collect(),
                frequencies,
                list_names: view(&list_names)?,
                record_ids: view(&record_ids)?,
                schema,
                threshold: plan.threshold,
            });
            self.progress.start("scoring pairs", candidate_pairs);
            // Batches are scored on the worker threads and come back in the order read
            // (`buffered`), so pairs.parquet is the same on every run.
            let mut scored = futures::stream::iter(reader)
                .map(|batch| {
                    let scoring = scoring.clone();
                    tokio::spawn(async move { scoring.score(&batch?) })
                })
                .buffered(in_flight());
            while let Some(done) = scored.next().await {
                let (batch, batch_links) = done.map_err(crate::task_stopped("scoring pairs"))??;
                links.extend(batch_links);
                self.progress.advance(batch.num_rows() as u64);
                writer.write(batch).await?;
            }
            writer.close().await?;
            self.progress.finish();
        }
        // Pairs come in blocking order; the links are handed on by record.
        links.sort_by_key(|&(a, b, _)| (a, b));
        let _ = std::fs::remove_file(&comparisons_path);
        let scored = started.elapsed().as_secs_f64() - compared - trained;
        // The text columns cast for pairs.parquet are the keys handed on (no copy).
        let records = RecordKeys {
            lists: list_names.as_string::<i32>().clone(),
            ids: record_ids.as_string::<i32>().clone(),
        };
        Ok(LinkOutput {
            blocking,
            candidate_pairs,
            pairs_by_rule,
            u_pairs: u_count,
            comparisons: plan.comparisons.iter().map(|c| c.name.clone()).collect(),
            levels: plan.comparisons.iter().map(|c| c.levels.clone()).collect(),
            patterns: patterns.len(),
            model,
            links,
            records,
            seconds: vec![
                ("block and compare".into(), compared),
                ("train".into(), trained),
                ("score".into(), scored),
            ],
        })
    }

    /// Calls `f(rid_l, rid_r, match_probability)` for every pair of a `pairs.parquet`, streaming.
    ///
    /// # Errors
    /// The file is missing or not a pairs table.
    pub async fn scan_pairs(
        &self,
        pairs_path: &Path,
        mut f: impl FnMut(i64, i64, f64),
    ) -> Result<()> {
        let df = self
            .ctx
            .read_parquet(
                &*pairs_path.to_string_lossy(),
                ParquetReadOptions::default(),
            )
            .await?
            .select_columns(&["rid_l", "rid_r", "match_probability"])?;
        let mut stream = df.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let l = batch.column(0).as_primitive::<Int64Type>();
            let r = batch.column(1).as_primitive::<Int64Type>();
            let p = batch.column(2).as_primitive::<Float64Type>();
            for i in 0..batch.num_rows() {
                f(l.value(i), r.value(i), p.value(i));
            }
        }
        Ok(())
    }
}

/// `count` random pairs of record ids (i < j), seeded; all pairs when there are fewer.
pub(crate) fn sample_pairs(n: i64, count: usize, seed: u64) -> RecordBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7563_616d_706c_6573);
    let total = if n < 2 {
        0
    } else {
        (n as u128 * (n as u128 - 1) / 2) as u64
    };
    let mut l = Int64Builder::new();
    let mut r = Int64Builder::new();
    if total <= count as u64 {
        for i in 0..n {
            for j in i + 1..n {
                l.append_value(i);
                r.append_value(j);
            }
        }
    } else {
        for _ in 0..count {
            let i = rng.random_range(0..n);
            let mut j = rng.random_range(0..n - 1);
            if j >= i {
                j += 1;
            }
            l.append_value(i.min(j));
            r.append_value(i.max(j));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("rid_l", DataType::Int64, false),
        Field::new("rid_r", DataType::Int64, false),
    ]));
    // Both columns have the same length by construction.
    RecordBatch::try_new(schema, vec![Arc::new(l.finish()), Arc::new(r.finish())])
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `one_sided` of `sql` over records with columns `a`, `b`, written as a shape:
    /// `l`/`r` for a part of one record, `?` for nothing known.
    fn shape(sql: &str) -> String {
        fn show(p: &OneSided) -> String {
            match p {
                OneSided::Unknown => "?".into(),
                OneSided::Part(left, _) => (if *left { "l" } else { "r" }).into(),
                OneSided::All(ps) => {
                    format!("all({})", ps.iter().map(show).collect::<Vec<_>>().join(","))
                }
                OneSided::AnyOf(ps) => {
                    format!("any({})", ps.iter().map(show).collect::<Vec<_>>().join(","))
                }
            }
        }
        let records = Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
        ]);
        let ctx = datafusion::prelude::SessionContext::new();
        let expr = ctx
            .parse_sql_expr(sql, &pair_schema(&records).unwrap())
            .unwrap();
        show(&one_sided(&expr))
    }

    #[test]
    fn conditions_split_into_what_one_record_tells() {
        assert_eq!(shape("l.a IS NULL OR r.a IS NULL"), "any(l,r)");
        assert_eq!(shape("((l.a IS NULL OR r.a IS NULL) IS TRUE)"), "any(l,r)");
        assert_eq!(shape("l.a <> r.a AND (l.b > 3 AND r.b > 3)"), "all(l,r)");
        assert_eq!(shape("l.a <> r.a AND l.b > 3"), "l");
        // One part unknown leaves an OR unknown; two-sided parts are unknown.
        assert_eq!(shape("l.a <> r.a OR l.b > 3"), "?");
        assert_eq!(shape("l.b + r.b > 3"), "?");
        // Random numbers differ from pair to pair.
        assert_eq!(shape("random() < 0.5 AND r.b > 3"), "r");
        assert_eq!(shape("random() < l.b"), "?");
        // NOT of a part is left to the condition itself.
        assert_eq!(shape("NOT (l.a IS NULL OR r.b > 3)"), "?");
        assert_eq!(shape("1 = 1"), "?");
    }

    #[test]
    fn scorer_weights_follow_the_model_and_adjust_for_term_frequency() {
        let comparison = |name: &str, tf: bool| PlanComparison {
            name: name.into(),
            sql: String::new(),
            levels: vec!["missing", "different", "fuzzy 2", "fuzzy 1", "exact"]
                .into_iter()
                .map(String::from)
                .collect(),
            columns: vec![name.into()],
            tf: tf.then(|| TermFrequency {
                column: format!("{name}__tf"),
                exact_level: 3,
                min_level: 1,
            }),
        };
        let plan = LinkPlan {
            comparisons: vec![comparison("surname", true), comparison("town", false)],
            rules: Vec::new(),
            pair_filter: None,
            total_pairs: 1e6,
            u_sample_pairs: 0,
            max_em_iterations: 0,
            max_block_size: 0,
            threshold: 0.9,
            seed: 0,
            frozen: None,
        };
        let levels = vec![0.05, 0.1, 0.15, 0.7];
        let u = vec![0.9, 0.05, 0.03, 0.02];
        let model = Model {
            lambda: 0.001,
            m: vec![levels.clone(), levels],
            u: vec![u.clone(), u],
            iterations: 1,
            converged: true,
            log_likelihood: Vec::new(),
        };
        let scorer = Scorer::new(&plan, &model);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // Without a frequency, the model's own contributions; a missing level weighs nothing.
        for k in 0..2 {
            for level in -1..4i8 {
                let mut pattern = vec![-1, -1];
                pattern[k] = level;
                assert!(close(
                    scorer.weight(k, level, None),
                    model.contributions(&pattern)[k]
                ));
            }
        }
        let base = |l: usize| (model.m[0][l] / model.u[0][l]).log2();
        // Exact agreement: a rare surname counts for more, a common one for less.
        assert!(close(
            scorer.weight(0, 3, Some(0.001)),
            base(3) + (0.02f64 / 0.001).log2()
        ));
        assert!(close(
            scorer.weight(0, 3, Some(0.1)),
            base(3) + (0.02f64 / 0.1).log2()
        ));
        assert!(scorer.weight(0, 3, Some(0.001)) > base(3));
        // Fuzzy agreement: only ever lowered.
        assert!(close(scorer.weight(0, 2, Some(0.001)), base(2)));
        assert!(close(
            scorer.weight(0, 2, Some(0.1)),
            base(2) + (0.02f64 / 0.1).log2()
        ));
        // Disagreement, missing values and comparisons without the adjustment ignore it.
        assert!(close(scorer.weight(0, 0, Some(0.1)), base(0)));
        assert!(close(scorer.weight(0, -1, Some(0.1)), 0.0));
        assert!(close(scorer.weight(1, 3, Some(0.001)), base(3)));

        // Scoring reads the frequencies as ranks: the same weight, bit for bit, as from the
        // larger of the pair's two frequencies (or the one it has), for every pair of records.
        let column = |values: Vec<Option<f64>>| Float64Array::from(values);
        let surname = column(vec![
            Some(0.1),
            None,
            Some(0.001),
            Some(0.1),
            Some(0.02),
            None,
        ]);
        let frequencies = Frequencies::new(&scorer, &[Some(surname.clone()), None], 6);
        let at = |i: usize| (!surname.is_null(i)).then(|| surname.value(i));
        for a in 0..6 {
            for b in 0..6 {
                let pair = match (at(a), at(b)) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
                let j = frequencies.slot[0].expect("adjusted");
                let w = frequencies.width;
                let rank = frequencies.ranks[a * w + j].max(frequencies.ranks[b * w + j]);
                let adj = frequencies.adjustments[j][rank as usize];
                for level in -1..4i8 {
                    assert_eq!(
                        scorer.adjusted(0, level, adj).to_bits(),
                        scorer.weight(0, level, pair).to_bits(),
                        "records {a}, {b}, level {level}"
                    );
                }
            }
        }
        assert_eq!(frequencies.slot[1], None);
    }

    #[test]
    fn pattern_keys_round_trip() {
        let levels = vec![-1, 0, 5, 3, 14];
        let flags = vec![true, false, true];
        assert_eq!(unpack(pack(&levels, &flags), 5, 3), (levels, flags));
    }
}
