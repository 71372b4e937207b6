//! The linker's core, shared by the victim-list preset and the generic settings: block, compare,
//! count patterns, train, score. Everything that touches pairs streams, so memory stays bounded
//! by a few batches of pairs, not by their number.
//!
//! ```text
//! rule i self-join on its keys ─> (rid_l, rid_r) batches, in record order
//!   (blocking::RulePairs)      │ gather the compared columns by rid; drop pairs of rules < i
//!                              │ and pairs the link type excludes; levels, tf values, flags of
//!                              │ rules > i (several batches at once, written back in order)
//!                              ├─> comparisons.parquet (rid_l, rid_r, levels, tf values)
//!                              └─> pattern counts (a few hundred distinct patterns)
//!                                       │
//!                  u from random pairs ─> EM per rule ─> model
//!                                                          │
//! comparisons.parquet ─ weight table + tf adjustment ─> pairs.parquet (same order every run)
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
    /// Per rule, what its pairs (from [`crate::blocking::RulePairs`]) must also meet, over both
    /// records' columns, in stages checked one after the other: the link type's condition and
    /// the rule's own filter, then not being found by an earlier rule (each pair is scored
    /// once). Each stage reads only its own columns, and only for the pairs the stages before
    /// kept: a loose rule with a filter (name and place, where a birth date is missing) joins
    /// many more pairs than it keeps.
    fn rule_filters(&self) -> Vec<Vec<String>> {
        let predicates = self.rule_predicates();
        self.rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let own: Vec<String> = self
                    .pair_filter
                    .iter()
                    .map(|f| format!("({f})"))
                    .chain(rule.filter.iter().map(|f| format!("(({f}) IS TRUE)")))
                    .collect();
                let earlier: Vec<String> =
                    predicates[..i].iter().map(|p| format!("NOT {p}")).collect();
                [own, earlier]
                    .into_iter()
                    .filter(|stage| !stage.is_empty())
                    .map(|stage| stage.join(" AND "))
                    .collect()
            })
            .collect()
    }

    /// Per rule, a boolean SQL expression over `l` and `r`: does the pair meet the rule?
    fn rule_predicates(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| crate::blocking::rule_predicate(&r.conditions, r.filter.as_deref()))
            .collect()
    }

    /// SQL of each comparison's level, then of each term-frequency value (the larger of the
    /// two records' frequencies), over `l` and `r`.
    fn comparison_sql(&self) -> (Vec<String>, Vec<Option<String>>) {
        let levels = self.comparisons.iter().map(|c| c.sql.clone()).collect();
        let tf = self
            .comparisons
            .iter()
            .map(|c| {
                c.tf.as_ref()
                    .map(|tf| format!("CAST(greatest(l.{0}, r.{0}) AS DOUBLE)", tf.column))
            })
            .collect();
        (levels, tf)
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
    /// Term-frequency value of each comparison that has the adjustment.
    tf: Vec<Option<PairExpr>>,
    /// Whether the pair meets each rule.
    rules: Vec<PairExpr>,
    /// Per rule, what its pairs must also meet, stage after stage (see [`LinkPlan::rule_filters`]).
    filters: Vec<Vec<Stage>>,
    /// The link type's condition alone (for the random pairs of u).
    pair_filter: Option<Stage>,
    /// Schema of the written comparisons: `rid_l, rid_r`, each level, each tf value.
    out_schema: SchemaRef,
}

impl Compiled {
    /// Comparison levels and term-frequency values of a pair batch.
    fn compare(&self, pairs: &RecordBatch) -> Result<(Vec<ArrayRef>, Vec<ArrayRef>)> {
        // As the written schema has them, whatever type the SQL gave.
        let all = |exprs: &mut dyn Iterator<Item = &PairExpr>, to: DataType| {
            exprs
                .map(|e| Ok(datafusion::arrow::compute::cast(&evaluate(e, pairs)?, &to)?))
                .collect::<Result<Vec<_>>>()
        };
        Ok((
            all(&mut self.levels.iter(), DataType::Int8)?,
            all(&mut self.tf.iter().flatten(), DataType::Float64)?,
        ))
    }

    /// Keeps the pairs of `l`, `r` meeting every stage of `filter`: (l, r, pair batch). Only
    /// the pairs that pass are gathered whole.
    fn filtered(
        &self,
        filter: &[Stage],
        mut l: ArrayRef,
        mut r: ArrayRef,
    ) -> Result<(ArrayRef, ArrayRef, RecordBatch)> {
        for stage in filter {
            if l.is_empty() {
                break;
            }
            let keep = evaluate(&stage.keep, &stage.evaluator.batch(&l, &r)?)?;
            let keep = keep.as_boolean();
            l = datafusion::arrow::compute::filter(&l, keep)?;
            r = datafusion::arrow::compute::filter(&r, keep)?;
        }
        let pairs = self.evaluator.batch(&l, &r)?;
        Ok((l, r, pairs))
    }
}

/// How `pairs.parquet` ([`Compression::SNAPPY`], which every Parquet reader knows) and the
/// temporary comparisons file it is scored from ([`Compression::LZ4_RAW`]) are encoded: plain
/// values, without dictionaries. Writing is the costliest part of scoring; dictionaries cost a
/// hash lookup per value and, measured at 100,000 records, made the write 60% slower for a
/// file only a quarter smaller (12 MB against 17 MB; uncompressed with dictionaries it was
/// about 35 MB). LZ4 compresses and decompresses faster than Snappy, and nobody else reads the
/// comparisons file (at 1,000,000 records, block and compare took 30-33 s against 32-36 s with
/// Snappy, two runs each on a busy machine).
///
/// [`Compression::SNAPPY`]: datafusion::parquet::basic::Compression::SNAPPY
/// [`Compression::LZ4_RAW`]: datafusion::parquet::basic::Compression::LZ4_RAW
fn pairs_writer_properties(
    compression: datafusion::parquet::basic::Compression,
) -> datafusion::parquet::file::properties::WriterProperties {
    datafusion::parquet::file::properties::WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_compression(compression)
        .build()
}

/// Batches handed to the runtime's worker threads at once: two per core, so that a core never
/// waits for the next batch while results are taken in order.
fn in_flight() -> usize {
    2 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Comparison patterns of a batch of record pairs (`rid_l`, `rid_r`) that pass the link
/// type's filter, counted by packed key (no rule flags).
fn count_patterns(compiled: &Compiled, part: &RecordBatch) -> Result<HashMap<u128, u64>> {
    let (_, _, pairs) = compiled.filtered(
        compiled.pair_filter.as_slice(),
        part.column(0).clone(),
        part.column(1).clone(),
    )?;
    let (level_cols, _) = compiled.compare(&pairs)?;
    let arrays: Vec<_> = level_cols
        .iter()
        .map(|c| c.as_primitive::<Int8Type>())
        .collect();
    let mut counts: HashMap<u128, u64> = HashMap::new();
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
/// levels, tf values) and its pattern counts, or `None` when the filter left no pair.
fn compare_batch(
    compiled: &Compiled,
    rule: usize,
    batch: &RecordBatch,
) -> Result<Option<(RecordBatch, HashMap<u128, u64>)>> {
    let (l, r, pairs) = compiled.filtered(
        &compiled.filters[rule],
        batch.column(0).clone(),
        batch.column(1).clone(),
    )?;
    let n = pairs.num_rows();
    if n == 0 {
        return Ok(None);
    }
    let (level_cols, tf_cols) = compiled.compare(&pairs)?;
    // Flags of later rules (earlier ones are false by the filter, this one true).
    let later = compiled.rules[rule + 1..]
        .iter()
        .map(|e| evaluate(e, &pairs))
        .collect::<Result<Vec<_>>>()?;
    let level_arrays: Vec<_> = level_cols
        .iter()
        .map(|c| c.as_primitive::<Int8Type>())
        .collect();
    let later: Vec<_> = later.iter().map(|c| c.as_boolean()).collect();
    let mut levels = vec![0i8; level_arrays.len()];
    let mut flags = vec![false; compiled.rules.len()];
    flags[rule] = true;
    let mut counts: HashMap<u128, u64> = HashMap::new();
    for row in 0..n {
        for (l, c) in levels.iter_mut().zip(&level_arrays) {
            *l = level_at(c, row);
        }
        for (f, c) in flags[rule + 1..].iter_mut().zip(&later) {
            *f = !c.is_null(row) && c.value(row);
        }
        *counts.entry(pack(&levels, &flags)).or_insert(0) += 1;
    }
    let mut columns = vec![l, r];
    columns.extend(level_cols);
    columns.extend(tf_cols);
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
    fn weight(&self, k: usize, level: i8, tf: Option<f64>) -> f64 {
        let Ok(index) = usize::try_from(level) else {
            return 0.0;
        };
        let base = self.weights[k].get(index).copied().unwrap_or(0.0);
        match (self.tf[k], tf) {
            (Some((exact, min, u_exact)), Some(f)) if f > 0.0 => {
                let adj = (u_exact / f).log2();
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

/// A link: record numbers `l < r` and the pair's match probability.
type Link = (i64, i64, f64);

/// What scoring a batch of compared pairs needs, shared by the worker threads.
struct Scoring {
    scorer: Scorer,
    /// Per comparison: its name (the level column) and whether it has a `tf_` column.
    comparisons: Vec<(String, bool)>,
    /// List and identifier of every record, by record number.
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
        let rid_l = col("rid_l")?;
        let rid_r = col("rid_r")?;
        let (l, r) = (
            rid_l.as_primitive::<Int64Type>(),
            rid_r.as_primitive::<Int64Type>(),
        );
        let n = batch.num_rows();
        let mut total = vec![self.scorer.prior; n];
        let mut columns: Vec<ArrayRef> = vec![
            rid_l.clone(),
            rid_r.clone(),
            take(&self.list_names, l, None)?,
            take(&self.record_ids, l, None)?,
            take(&self.list_names, r, None)?,
            take(&self.record_ids, r, None)?,
        ];
        for (k, (name, has_tf)) in self.comparisons.iter().enumerate() {
            let levels = col(name)?;
            let tf = if *has_tf {
                Some(col(&format!("tf_{name}"))?)
            } else {
                None
            };
            let tf = tf.as_ref().map(|t| t.as_primitive::<Float64Type>());
            let lv = levels.as_primitive::<Int8Type>();
            let mut mw = Vec::with_capacity(n);
            for (i, t) in total.iter_mut().enumerate() {
                let level = level_at(lv, i);
                let f = tf.and_then(|t| (!t.is_null(i)).then(|| t.value(i)));
                let w = self.scorer.weight(k, level, f);
                *t += w;
                mw.push(w);
            }
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
    fn compile(&self, plan: &LinkPlan, records: &RecordBatch) -> Result<Compiled> {
        use datafusion::common::{DFSchema, TableReference};
        let schema = records.schema();
        let full = pair_schema(&schema)?;
        let parse = |sql: &str| -> Result<datafusion::logical_expr::Expr> {
            Ok(self.ctx.parse_sql_expr(sql, &full)?)
        };
        let (level_sql, tf_sql) = plan.comparison_sql();
        let levels = level_sql
            .iter()
            .map(|s| parse(s))
            .collect::<Result<Vec<_>>>()?;
        let tf = tf_sql
            .iter()
            .map(|t| t.as_deref().map(parse).transpose())
            .collect::<Result<Vec<_>>>()?;
        let rules = plan
            .rule_predicates()
            .iter()
            .map(|s| parse(s))
            .collect::<Result<Vec<_>>>()?;
        let filters = plan
            .rule_filters()
            .iter()
            .map(|q| q.iter().map(|f| parse(f)).collect::<Result<Vec<_>>>())
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
        let whole: Vec<&datafusion::logical_expr::Expr> = levels
            .iter()
            .chain(tf.iter().flatten())
            .chain(&rules)
            .collect();
        let (evaluator, reduced) = narrow(&whole)?;
        let physical = |e: datafusion::logical_expr::Expr| -> Result<PairExpr> {
            Ok(self.ctx.create_physical_expr(e, &reduced)?)
        };
        let mut fields = vec![
            Field::new("rid_l", DataType::Int64, false),
            Field::new("rid_r", DataType::Int64, false),
        ];
        for c in &plan.comparisons {
            fields.push(Field::new(&c.name, DataType::Int8, true));
        }
        for c in &plan.comparisons {
            if c.tf.is_some() {
                fields.push(Field::new(
                    format!("tf_{}", c.name),
                    DataType::Float64,
                    true,
                ));
            }
        }
        Ok(Compiled {
            evaluator,
            levels: levels.into_iter().map(physical).collect::<Result<_>>()?,
            tf: tf
                .into_iter()
                .map(|t| t.map(physical).transpose())
                .collect::<Result<_>>()?,
            rules: rules.into_iter().map(physical).collect::<Result<_>>()?,
            filters: filters
                .into_iter()
                .map(|stages| stages.into_iter().map(stage).collect::<Result<_>>())
                .collect::<Result<_>>()?,
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
    ) -> Result<(HashMap<u128, u64>, Vec<u64>, bool)> {
        let records = &compiled.evaluator.records;
        let mut counts: HashMap<u128, u64> = HashMap::new();
        let mut pairs_by_rule = vec![0u64; plan.rules.len()];
        let mut writer: Option<ParallelWriter> = None;
        self.progress.start("comparing candidate pairs", upper);
        for (i, rule) in plan.rules.iter().enumerate() {
            let pairs = crate::blocking::RulePairs::new(records, &rule.conditions)?;
            let mut compared = futures::stream::iter(pairs)
                .map(|batch| {
                    let compiled = compiled.clone();
                    // On the runtime's worker threads (one per core), not extra blocking
                    // threads: each thread that allocates gets its own malloc arena, and more
                    // arenas hold more memory for the same work.
                    tokio::spawn(async move {
                        let batch = batch?;
                        let generated = batch.num_rows() as u64;
                        Ok::<_, Error>((generated, compare_batch(&compiled, i, &batch)?))
                    })
                })
                .buffered(in_flight());
            while let Some(done) = compared.next().await {
                let (generated, result) =
                    done.map_err(crate::task_stopped("comparing pairs"))??;
                if let Some((batch, batch_counts)) = result {
                    pairs_by_rule[i] += batch.num_rows() as u64;
                    for (key, n) in batch_counts {
                        *counts.entry(key).or_insert(0) += n;
                    }
                    if writer.is_none() {
                        writer = Some(ParallelWriter::create(
                            path,
                            compiled.out_schema.clone(),
                            pairs_writer_properties(
                                datafusion::parquet::basic::Compression::LZ4_RAW,
                            ),
                        )?);
                    }
                    if let Some(w) = writer.as_mut() {
                        w.write(batch).await?;
                    }
                }
                self.progress.advance(generated);
            }
        }
        self.progress.finish();
        let written = match writer {
            Some(w) => {
                w.close().await?;
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
        let mut random: HashMap<u128, u64> = HashMap::new();
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
        let blocking = self.measure_rules(plan, plan.max_block_size).await?;
        for r in &blocking {
            tracing::info!(rule = %r.rule, pairs = r.pairs, "blocking rule measured");
        }
        let upper: u64 = blocking.iter().map(|r| r.pairs).sum();

        // One streaming pass per rule: compare, write levels, count patterns.
        let k = plan.comparisons.len();
        let nr = plan.rules.len();
        let comparisons_path = out_dir.join("comparisons.parquet");
        let records = self.records_batch().await?;
        let compiled = Arc::new(self.compile(plan, &records)?);
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
        let scorer = Scorer::new(plan, &model);
        let pairs_path = out_dir.join("pairs.parquet");
        let mut links = Vec::new();
        {
            // Read back in the order written, so that pairs.parquet is the same on every run.
            let input = std::fs::File::open(&comparisons_path).map_err(|source| Error::Io {
                path: comparisons_path.display().to_string(),
                source,
            })?;
            let reader =
                datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    input,
                )?
                .with_batch_size(8192)
                .build()?;
            let mut fields = vec![
                Field::new("rid_l", DataType::Int64, false),
                Field::new("rid_r", DataType::Int64, false),
                Field::new("list_l", DataType::Utf8, false),
                Field::new("record_id_l", DataType::Utf8, false),
                Field::new("list_r", DataType::Utf8, false),
                Field::new("record_id_r", DataType::Utf8, false),
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
            let mut writer = ParallelWriter::create(
                &pairs_path,
                schema.clone(),
                pairs_writer_properties(datafusion::parquet::basic::Compression::SNAPPY),
            )?;
            let scoring = Arc::new(Scoring {
                scorer,
                comparisons: plan
                    .comparisons
                    .iter()
                    .map(|c| (c.name.clone(), c.tf.is_some()))
                    .collect(),
                list_names: list_names.clone(),
                record_ids: record_ids.clone(),
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
    }

    #[test]
    fn pattern_keys_round_trip() {
        let levels = vec![-1, 0, 5, 3, 14];
        let flags = vec![true, false, true];
        assert_eq!(unpack(pack(&levels, &flags), 5, 3), (levels, flags));
    }
}
