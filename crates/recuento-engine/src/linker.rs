//! The linker's core, shared by the victim-list preset and the generic settings: block, compare,
//! count patterns, train, score. Everything that touches pairs streams through DataFusion, so
//! memory stays bounded by a few batches of pairs, not by their number.
//!
//! ```text
//! rule 1 join ─┐                     ┌─> comparisons.parquet (levels, rule flags, tf values)
//! rule 2 join ─┼─ UNION ALL ─ stream ┤
//! rule 3 join ─┘ (each pair once:    └─> pattern counts (a few hundred distinct patterns)
//!                 rule i drops pairs                      │
//!                 rules < i found)          u from random pairs ─> EM per rule ─> model
//!                                                                                │
//! comparisons.parquet ─ weights as SQL CASE expressions + tf adjustment ─> pairs.parquet
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Builder, RecordBatch};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int8Type, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::ParquetReadOptions;
use futures::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_fs::{Model, TrainOptions};
use serde::Serialize;

use crate::blocking::RuleReport;
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

/// One blocking rule of a plan: equalities between record columns.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRule {
    /// The rule as the user wrote it.
    pub text: String,
    /// (left column, right column) equalities.
    pub conditions: Vec<(String, String)>,
    /// Record columns the rule fixes (to leave their comparisons out of EM on its pairs).
    pub columns: Vec<String>,
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
    /// Records: (rid, list, record_id), ordered by rid.
    pub records: Vec<(i64, String, String)>,
    /// Seconds spent per stage: blocking+comparing, training, scoring.
    pub seconds: Vec<(String, f64)>,
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
    /// One SQL query per rule selecting `rid_l, rid_r`, every comparison level, the tf values and
    /// a flag per rule; together they give every candidate pair once. They run one after the
    /// other, so that only one join's hash table is in memory at a time.
    fn candidates_sql(&self) -> Vec<String> {
        let filter = self
            .pair_filter
            .as_ref()
            .map(|f| format!(" AND ({f})"))
            .unwrap_or_default();
        let predicates: Vec<String> = self
            .rules
            .iter()
            .map(|r| crate::blocking::rule_predicate(&r.conditions))
            .collect();
        let mut parts = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let mut cols = vec!["l.rid AS rid_l".to_string(), "r.rid AS rid_r".to_string()];
            let symmetric = rule.conditions.iter().all(|(a, b)| a == b);
            if !symmetric {
                cols[0] = "least(l.rid, r.rid) AS rid_l".into();
                cols[1] = "greatest(l.rid, r.rid) AS rid_r".into();
            }
            // Record identifiers are not carried through the joins: they are looked up by `rid`
            // when the scored pairs are written, which keeps every joined batch narrow.
            for c in &self.comparisons {
                cols.push(format!("{} AS {}", c.sql, c.name));
                if let Some(tf) = &c.tf {
                    cols.push(format!(
                        "CAST(greatest(l.{0}, r.{0}) AS DOUBLE) AS tf_{1}",
                        tf.column, c.name
                    ));
                }
            }
            for (j, p) in predicates.iter().enumerate() {
                cols.push(match j.cmp(&i) {
                    std::cmp::Ordering::Less => format!("false AS rule_{j}"),
                    std::cmp::Ordering::Equal => format!("true AS rule_{j}"),
                    std::cmp::Ordering::Greater => format!("{p} AS rule_{j}"),
                });
            }
            let earlier: String = predicates[..i]
                .iter()
                .map(|p| format!(" AND NOT {p}"))
                .collect();
            // An asymmetric rule (`a=b`) finds a pair in one orientation or the other; keep the
            // (l < r) one, and the (l > r) one only when the reverse does not also hold.
            let orientation = if symmetric {
                "l.rid < r.rid".to_string()
            } else {
                let reverse = rule
                    .conditions
                    .iter()
                    .map(|(a, b)| format!("r.{a} = l.{b}"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                format!("(l.rid < r.rid OR (l.rid > r.rid AND NOT coalesce({reverse}, false)))")
            };
            parts.push(format!(
                "SELECT {} FROM records l JOIN records r ON {} WHERE {orientation}{filter}{earlier}",
                cols.join(", "),
                crate::blocking::join_condition(&rule.conditions),
            ));
        }
        parts
    }
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

impl Engine {
    /// Sets how long stages report progress.
    pub fn set_progress(&mut self, progress: Arc<dyn Progress>) {
        self.progress = progress;
    }

    /// u from seeded random pairs, then m and λ by EM per blocking rule.
    async fn train(
        &self,
        plan: &LinkPlan,
        rules: &[recuento_fs::RulePatterns],
        patterns: &[(Vec<i8>, u64)],
    ) -> Result<(recuento_fs::Model, u64)> {
        let k = plan.comparisons.len();
        // u from seeded random pairs.
        let n = self.record_count().await?;
        let u_batch = sample_pairs(n, plan.u_sample_pairs, plan.seed);
        let u_count = u_batch.num_rows() as u64;
        let _ = self.ctx.deregister_table("u_pairs")?;
        self.ctx.register_table(
            "u_pairs",
            Arc::new(MemTable::try_new(u_batch.schema(), vec![vec![u_batch]])?),
        )?;
        let level_counts: Vec<usize> = plan
            .comparisons
            .iter()
            .map(|c| c.levels.len() - 1)
            .collect();
        let filter = plan
            .pair_filter
            .as_ref()
            .map(|f| format!(" WHERE {f}"))
            .unwrap_or_default();
        let levels_sql: Vec<String> = plan
            .comparisons
            .iter()
            .map(|c| format!("{} AS {}", c.sql, c.name))
            .collect();
        let names: Vec<&str> = plan.comparisons.iter().map(|c| c.name.as_str()).collect();
        let random = self
            .pattern_counts(
                &format!(
                    "SELECT {names}, count(*) AS n FROM (SELECT {levels} FROM u_pairs p JOIN records l ON p.rid_l = l.rid JOIN records r ON p.rid_r = r.rid{filter}) GROUP BY {names}",
                    names = names.join(", "),
                    levels = levels_sql.join(", ")
                ),
                k,
            )
            .await?;
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

        // One streaming pass: write comparison levels and count patterns.
        let k = plan.comparisons.len();
        let nr = plan.rules.len();
        let comparisons_path = out_dir.join("comparisons.parquet");
        let mut counts: HashMap<u128, u64> = HashMap::new();
        let mut pairs_by_rule = vec![0u64; nr];
        {
            let file = std::fs::File::create(&comparisons_path).map_err(|source| Error::Io {
                path: comparisons_path.display().to_string(),
                source,
            })?;
            let mut writer: Option<ArrowWriter<std::fs::File>> = None;
            let mut writer_schema = Arc::new(Schema::empty());
            let mut file = Some(file);
            self.progress.start("comparing candidate pairs", upper);
            let mut levels = vec![0i8; k];
            let mut flags = vec![false; nr];
            for sql in plan.candidates_sql() {
                let mut stream = self.ctx.sql(&sql).await?.execute_stream().await?;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    let schema = batch.schema();
                    let level_cols: Vec<_> = plan
                        .comparisons
                        .iter()
                        .map(|c| {
                            schema
                                .index_of(&c.name)
                                .map(|i| batch.column(i).as_primitive::<Int8Type>().clone())
                        })
                        .collect::<std::result::Result<_, _>>()?;
                    let flag_cols: Vec<_> = (0..nr)
                        .map(|j| {
                            schema
                                .index_of(&format!("rule_{j}"))
                                .map(|i| batch.column(i).as_boolean().clone())
                        })
                        .collect::<std::result::Result<_, _>>()?;
                    for row in 0..batch.num_rows() {
                        for (l, c) in levels.iter_mut().zip(&level_cols) {
                            *l = if c.is_null(row) { -1 } else { c.value(row) };
                        }
                        for (f, c) in flags.iter_mut().zip(&flag_cols) {
                            *f = !c.is_null(row) && c.value(row);
                        }
                        if let Some(first) = flags.iter().position(|f| *f) {
                            pairs_by_rule[first] += 1;
                        }
                        *counts.entry(pack(&levels, &flags)).or_insert(0) += 1;
                    }
                    // Rule flags are only needed for the pattern counts above.
                    let kept: Vec<usize> = (0..schema.fields().len())
                        .filter(|&i| !schema.field(i).name().starts_with("rule_"))
                        .collect();
                    let batch = batch.project(&kept)?;
                    if writer.is_none() {
                        let f = file.take().ok_or_else(|| {
                            Error::Plan("internal: comparisons file opened twice".into())
                        })?;
                        // Rules differ in which columns they know to be non-null: write them
                        // all as nullable, under one schema.
                        let fields: Vec<Field> = batch
                            .schema()
                            .fields()
                            .iter()
                            .map(|f| f.as_ref().clone().with_nullable(true))
                            .collect();
                        writer_schema = Arc::new(Schema::new(fields));
                        writer = Some(ArrowWriter::try_new(f, writer_schema.clone(), None)?);
                    }
                    if let Some(w) = writer.as_mut() {
                        w.write(&RecordBatch::try_new(
                            writer_schema.clone(),
                            batch.columns().to_vec(),
                        )?)?;
                    }
                    self.progress.advance(batch.num_rows() as u64);
                }
            }
            self.progress.finish();
            match writer {
                Some(w) => {
                    w.close()?;
                }
                None => return Err(recuento_fs::Error::NoPairs.into()),
            }
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
            None => self.train(plan, &rules, &patterns).await?,
        };
        tracing::info!(
            iterations = model.iterations,
            converged = model.converged,
            lambda = model.lambda,
            "EM finished"
        );
        let trained = started.elapsed().as_secs_f64() - compared;

        // Score every pair, streaming, and keep the links. The weights are table lookups, done
        // here batch by batch; the pairs are written in the order they arrive (sorting tens of
        // millions of pairs cost as much as comparing them), and the links are sorted below.
        let records = self.records_index().await?;
        // Identifiers are looked up by position: rids are 0..n by construction.
        if records.iter().enumerate().any(|(i, r)| r.0 != i as i64) {
            return Err(Error::Plan(
                "internal: record numbers are not 0..n (please report)".into(),
            ));
        }
        let list_names =
            datafusion::arrow::array::StringArray::from_iter_values(records.iter().map(|r| &r.1));
        let record_ids =
            datafusion::arrow::array::StringArray::from_iter_values(records.iter().map(|r| &r.2));
        let scorer = Scorer::new(plan, &model);
        let pairs_path = out_dir.join("pairs.parquet");
        let mut links = Vec::new();
        {
            let df = self
                .ctx
                .read_parquet(
                    &*comparisons_path.to_string_lossy(),
                    ParquetReadOptions::default(),
                )
                .await?;
            let mut stream = df.execute_stream().await?;
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
            let file = std::fs::File::create(&pairs_path).map_err(|source| Error::Io {
                path: pairs_path.display().to_string(),
                source,
            })?;
            let mut writer = ArrowWriter::try_new(file, schema.clone(), None)?;
            self.progress.start("scoring pairs", candidate_pairs);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
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
                let mut total = vec![scorer.prior; n];
                let mut columns: Vec<ArrayRef> = vec![
                    rid_l.clone(),
                    rid_r.clone(),
                    take(&list_names, l, None)?,
                    take(&record_ids, l, None)?,
                    take(&list_names, r, None)?,
                    take(&record_ids, r, None)?,
                ];
                for (k, c) in plan.comparisons.iter().enumerate() {
                    let levels = col(&c.name)?;
                    let tf = match &c.tf {
                        Some(_) => Some(col(&format!("tf_{}", c.name))?),
                        None => None,
                    };
                    let tf = tf.as_ref().map(|t| t.as_primitive::<Float64Type>());
                    let lv = levels.as_primitive::<Int8Type>();
                    let mut mw = Vec::with_capacity(n);
                    for (i, t) in total.iter_mut().enumerate() {
                        let level = if lv.is_null(i) { -1 } else { lv.value(i) };
                        let f = tf.and_then(|t| (!t.is_null(i)).then(|| t.value(i)));
                        let w = scorer.weight(k, level, f);
                        *t += w;
                        mw.push(w);
                    }
                    columns.push(levels);
                    columns.push(Arc::new(Float64Array::from(mw)));
                }
                let probability: Vec<f64> =
                    total.iter().map(|&w| recuento_fs::probability(w)).collect();
                for (i, &p) in probability.iter().enumerate() {
                    if p >= plan.threshold {
                        links.push((l.value(i), r.value(i), p));
                    }
                }
                columns.push(Arc::new(Float64Array::from(total)));
                columns.push(Arc::new(Float64Array::from(probability)));
                writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
                self.progress.advance(n as u64);
            }
            writer.close()?;
            self.progress.finish();
        }
        // Batches arrive in whichever order the scan's partitions finish: sort the links so
        // that clusters and everything after them come out the same on every run.
        links.sort_by_key(|&(a, b, _)| (a, b));
        let _ = self.ctx.deregister_table("comparisons")?;
        std::fs::remove_file(&comparisons_path).ok();
        let scored = started.elapsed().as_secs_f64() - compared - trained;
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

    pub(crate) async fn pattern_counts(&self, sql: &str, k: usize) -> Result<Vec<(Vec<i8>, u64)>> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        let mut out = Vec::new();
        for b in &batches {
            let cols: Vec<_> = (0..k)
                .map(|i| b.column(i).as_primitive::<Int8Type>())
                .collect();
            let n = b.column(k).as_primitive::<Int64Type>();
            for r in 0..b.num_rows() {
                out.push((
                    cols.iter()
                        .map(|c| if c.is_null(r) { -1 } else { c.value(r) })
                        .collect(),
                    n.value(r) as u64,
                ));
            }
        }
        out.sort();
        Ok(out)
    }

    pub(crate) async fn record_count(&self) -> Result<i64> {
        let b = self
            .ctx
            .sql("SELECT count(*) FROM records")
            .await?
            .collect()
            .await?;
        Ok(b.first()
            .map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0)))
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
    fn pattern_keys_round_trip() {
        let levels = vec![-1, 0, 5, 3, 14];
        let flags = vec![true, false, true];
        assert_eq!(unpack(pack(&levels, &flags), 5, 3), (levels, flags));
    }
}
