//! Comparison, training and scoring of candidate pairs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Float64Builder, Int8Builder, Int64Builder, RecordBatch,
};
use datafusion::arrow::datatypes::{DataType, Field, Int8Type, Int64Type, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::MemTable;
use datafusion::prelude::ParquetReadOptions;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_fs::{Model, TrainOptions};
use recuento_model::LinkageConfig;
use recuento_text::compare;
use serde::Serialize;

use crate::blocking::RuleReport;
use crate::{Engine, Error, Result};

/// One comparison of the victim-list preset.
#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    /// Column name in `pairs.parquet`.
    pub name: &'static str,
    /// SQL computing the level from records `l` and `r`.
    pub sql: &'static str,
    /// Level names, index `level + 1` (index 0 = missing).
    pub levels: &'static [&'static str],
}

/// The comparisons of the victim-list preset, in output order.
pub const COMPARISONS: &[Comparison] = &[
    Comparison {
        name: "given_names",
        sql: "cmp_given(l.given, r.given)",
        levels: &compare::GIVEN_LEVELS,
    },
    Comparison {
        name: "surnames",
        sql: "cmp_surnames(l.surname1, l.surname2, r.surname1, r.surname2)",
        levels: &compare::SURNAME_LEVELS,
    },
    Comparison {
        name: "birth_date",
        sql: "cmp_date(l.birth_date, r.birth_date)",
        levels: &compare::DATE_LEVELS,
    },
    Comparison {
        name: "event_date",
        sql: "cmp_date(l.event_date, r.event_date)",
        levels: &compare::DATE_LEVELS,
    },
    Comparison {
        name: "national_id",
        sql: "cmp_id(l.national_id, r.national_id)",
        levels: &compare::ID_LEVELS,
    },
    Comparison {
        name: "facility",
        sql: "cmp_place(l.facility, r.facility)",
        levels: &compare::PLACE_LEVELS,
    },
    Comparison {
        name: "place",
        sql: "cmp_place(l.place, r.place)",
        levels: &compare::PLACE_LEVELS,
    },
    Comparison {
        name: "sex",
        sql: "cmp_exact(l.sex, r.sex)",
        levels: &compare::EXACT_LEVELS,
    },
];

/// Number of non-missing levels of each comparison.
fn level_counts() -> Vec<usize> {
    COMPARISONS.iter().map(|c| c.levels.len() - 1).collect()
}

/// What linkage produced.
#[derive(Debug, Clone, Serialize)]
pub struct LinkOutput {
    /// Blocking rules measured before generating pairs.
    pub blocking: Vec<RuleReport>,
    /// Distinct candidate pairs scored.
    pub candidate_pairs: u64,
    /// Random pairs drawn to estimate u.
    pub u_pairs: u64,
    /// The trained model.
    pub model: Model,
    /// Comparison names, in the model's order.
    pub comparisons: Vec<String>,
    /// Distinct comparison patterns among candidate pairs.
    pub patterns: usize,
    /// Pairs at or above the threshold: (rid_l, rid_r, match probability).
    pub links: Vec<(i64, i64, f64)>,
    /// Records: (rid, list, record_id), ordered by rid.
    pub records: Vec<(i64, String, String)>,
}

/// Comparison levels of the pairs in `pairs_table`, plus a `rule_i` flag per blocking rule.
fn compare_sql(pairs_table: &str, rule_predicates: &[String]) -> String {
    let mut cols: Vec<String> = COMPARISONS
        .iter()
        .map(|c| format!("{} AS {}", c.sql, c.name))
        .collect();
    cols.extend(
        rule_predicates
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{p} AS rule_{i}")),
    );
    format!(
        "SELECT p.rid_l, p.rid_r, {} FROM {pairs_table} p JOIN records l ON p.rid_l = l.rid JOIN records r ON p.rid_r = r.rid",
        cols.join(", ")
    )
}

fn pattern_sql(table: &str, filter: &str) -> String {
    let cols: Vec<&str> = COMPARISONS.iter().map(|c| c.name).collect();
    format!(
        "SELECT {cols}, count(*) AS n FROM {table} WHERE {filter} GROUP BY {cols} ORDER BY {cols}",
        cols = cols.join(", ")
    )
}

impl Engine {
    async fn pattern_counts(&self, sql: &str) -> Result<Vec<(Vec<i8>, u64)>> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        let k = COMPARISONS.len();
        let mut out = Vec::new();
        for b in &batches {
            let cols: Vec<_> = (0..k)
                .map(|i| b.column(i).as_primitive::<Int8Type>())
                .collect();
            let n = b.column(k).as_primitive::<Int64Type>();
            for r in 0..b.num_rows() {
                out.push((cols.iter().map(|c| c.value(r)).collect(), n.value(r) as u64));
            }
        }
        Ok(out)
    }

    async fn record_count(&self) -> Result<i64> {
        let b = self
            .ctx
            .sql("SELECT count(*) FROM records")
            .await?
            .collect()
            .await?;
        Ok(b.first()
            .map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0)))
    }

    /// Blocks, compares, trains and scores: writes `out_dir/pairs.parquet` (every candidate
    /// pair with its comparison levels, per-comparison match weights, match weight and match
    /// probability) and returns the pairs at or above the threshold.
    ///
    /// # Errors
    /// Bad blocking rules, no candidate pairs, or failures writing outputs.
    pub async fn link(
        &self,
        config: &LinkageConfig,
        seed: u64,
        exclude_within: &[String],
        out_dir: &Path,
    ) -> Result<LinkOutput> {
        let blocking = self
            .measure_blocking(&config.blocking, config.max_block_size)
            .await?;
        for r in &blocking {
            tracing::info!(rule = %r.rule, pairs = r.pairs, "blocking rule measured");
        }
        // Candidate pairs, compared once and kept (small integer columns) for training and scoring.
        let pairs_sql = self.candidate_pairs_sql(&config.blocking, exclude_within)?;
        let _ = self.ctx.deregister_table("candidates")?;
        self.ctx
            .register_table("candidates", self.ctx.sql(&pairs_sql).await?.into_view())?;
        let mut predicates = Vec::new();
        let mut blocked = Vec::new();
        for (i, rule) in config.blocking.iter().enumerate() {
            let conds = crate::blocking::conditions(rule, i)?;
            predicates.push(crate::blocking::rule_predicate(&conds));
            let cols: Vec<&str> = conds
                .iter()
                .flat_map(|(a, b)| {
                    [
                        crate::blocking::comparison_of(a),
                        crate::blocking::comparison_of(b),
                    ]
                })
                .collect();
            blocked.push(
                COMPARISONS
                    .iter()
                    .map(|c| cols.contains(&c.name))
                    .collect::<Vec<bool>>(),
            );
        }
        let comparisons_path = out_dir.join("comparisons.parquet");
        self.ctx
            .sql(&format!(
                "{} ORDER BY p.rid_l, p.rid_r",
                compare_sql("candidates", &predicates)
            ))
            .await?
            .write_parquet(
                &comparisons_path.to_string_lossy(),
                DataFrameWriteOptions::new().with_single_file_output(true),
                None,
            )
            .await?;
        let _ = self.ctx.deregister_table("comparisons")?;
        self.ctx
            .register_parquet(
                "comparisons",
                &*comparisons_path.to_string_lossy(),
                ParquetReadOptions::default(),
            )
            .await?;
        let patterns = self
            .pattern_counts(&pattern_sql("comparisons", "true"))
            .await?;
        let mut rules = Vec::new();
        for (i, b) in blocked.into_iter().enumerate() {
            rules.push(recuento_fs::RulePatterns {
                patterns: self
                    .pattern_counts(&pattern_sql("comparisons", &format!("rule_{i}")))
                    .await?,
                blocked: b,
            });
        }
        let candidate_pairs: u64 = patterns.iter().map(|p| p.1).sum();
        tracing::info!(
            candidate_pairs,
            patterns = patterns.len(),
            "candidate pairs compared"
        );

        // u from seeded random pairs.
        let n = self.record_count().await?;
        let u_pairs = sample_pairs(n, config.u_sample_pairs, seed);
        let u_count = u_pairs.num_rows() as u64;
        let _ = self.ctx.deregister_table("u_pairs")?;
        self.ctx.register_table(
            "u_pairs",
            Arc::new(MemTable::try_new(u_pairs.schema(), vec![vec![u_pairs]])?),
        )?;
        let random = self
            .pattern_counts(&pattern_sql(
                &format!("({})", compare_sql("u_pairs", &[])),
                "true",
            ))
            .await?;
        let levels = level_counts();
        let u = recuento_fs::u_from_counts(&levels, &random);
        let total_pairs = (n as f64) * (n as f64 - 1.0) / 2.0;
        let model = recuento_fs::train_by_rules(
            &levels,
            &rules,
            &patterns,
            total_pairs,
            u,
            &TrainOptions {
                max_iterations: config.max_em_iterations,
                ..TrainOptions::default()
            },
        )?;
        tracing::info!(
            iterations = model.iterations,
            converged = model.converged,
            lambda = model.lambda,
            "EM finished"
        );

        // Score: a tiny table of pattern -> weights, joined back to every pair.
        let scores = score_table(&model, &patterns)?;
        let _ = self.ctx.deregister_table("scores")?;
        self.ctx.register_table(
            "scores",
            Arc::new(MemTable::try_new(scores.schema(), vec![vec![scores]])?),
        )?;
        let on: Vec<String> = COMPARISONS
            .iter()
            .map(|c| format!("c.{0} = s.{0}", c.name))
            .collect();
        let levels_sel: Vec<String> = COMPARISONS
            .iter()
            .map(|c| format!("c.{}", c.name))
            .collect();
        let bf_sel: Vec<String> = COMPARISONS
            .iter()
            .map(|c| format!("s.mw_{}", c.name))
            .collect();
        let sql = format!(
            "SELECT c.rid_l, c.rid_r, l.list AS list_l, l.record_id AS record_id_l, r.list AS list_r, r.record_id AS record_id_r, \
             {}, {}, s.match_weight, s.match_probability \
             FROM comparisons c JOIN scores s ON {} JOIN records l ON c.rid_l = l.rid JOIN records r ON c.rid_r = r.rid \
             ORDER BY c.rid_l, c.rid_r",
            levels_sel.join(", "),
            bf_sel.join(", "),
            on.join(" AND ")
        );
        let pairs_path = out_dir.join("pairs.parquet");
        self.ctx
            .sql(&sql)
            .await?
            .write_parquet(
                &pairs_path.to_string_lossy(),
                DataFrameWriteOptions::new().with_single_file_output(true),
                None,
            )
            .await?;
        let _ = self.ctx.deregister_table("pairs")?;
        let links = self.pairs_above(&pairs_path, config.threshold).await?;
        let records = self.records_index().await?;
        std::fs::remove_file(&comparisons_path).ok();
        let _ = self.ctx.deregister_table("comparisons")?;
        Ok(LinkOutput {
            blocking,
            candidate_pairs,
            u_pairs: u_count,
            comparisons: COMPARISONS.iter().map(|c| c.name.to_string()).collect(),
            patterns: patterns.len(),
            model,
            links,
            records,
        })
    }

    /// Pairs of `pairs_path` (a `pairs.parquet` written by [`Engine::link`]) whose match
    /// probability is at least `threshold`, as (rid_l, rid_r, match probability).
    ///
    /// # Errors
    /// The file is missing or not a pairs table.
    pub async fn pairs_above(
        &self,
        pairs_path: &Path,
        threshold: f64,
    ) -> Result<Vec<(i64, i64, f64)>> {
        if !self.ctx.table_exist("pairs")? {
            self.ctx
                .register_parquet(
                    "pairs",
                    &*pairs_path.to_string_lossy(),
                    ParquetReadOptions::default(),
                )
                .await?;
        }
        let batches = self
            .ctx
            .sql(&format!(
                "SELECT rid_l, rid_r, match_probability FROM pairs WHERE match_probability >= {threshold} ORDER BY rid_l, rid_r"
            ))
            .await?
            .collect()
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let l = b.column(0).as_primitive::<Int64Type>();
            let r = b.column(1).as_primitive::<Int64Type>();
            let p = b
                .column(2)
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>();
            out.extend((0..b.num_rows()).map(|i| (l.value(i), r.value(i), p.value(i))));
        }
        Ok(out)
    }

    /// (rid, list, record_id) of every record, ordered by rid.
    pub async fn records_index(&self) -> Result<Vec<(i64, String, String)>> {
        let batches = self
            .ctx
            .sql("SELECT rid, list, record_id FROM records ORDER BY rid")
            .await?
            .collect()
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let rid = b.column(0).as_primitive::<Int64Type>();
            let list = datafusion::arrow::compute::cast(b.column(1), &DataType::Utf8)?;
            let id = datafusion::arrow::compute::cast(b.column(2), &DataType::Utf8)?;
            let (list, id) = (list.as_string::<i32>(), id.as_string::<i32>());
            for i in 0..b.num_rows() {
                out.push((
                    rid.value(i),
                    list.value(i).to_string(),
                    id.value(i).to_string(),
                ));
            }
        }
        Ok(out)
    }

    /// Text values of one standardised column for every record, by rid (for strata).
    ///
    /// # Errors
    /// Unknown column names are a [`Error::Plan`].
    pub async fn record_values(&self, column: &str) -> Result<BTreeMap<i64, String>> {
        let expr = match column {
            "sex" | "facility" | "place" => column.to_string(),
            "event_year" => "substr(event_date, 1, 4)".to_string(),
            _ => {
                return Err(Error::Plan(format!(
                    "'{column}' cannot be used as a stratum; use one of: {}",
                    recuento_model::STRATUM_KEYS.join(", ")
                )));
            }
        };
        let batches = self
            .ctx
            .sql(&format!(
                "SELECT rid, {expr} AS v FROM records WHERE {expr} IS NOT NULL"
            ))
            .await?
            .collect()
            .await?;
        let mut out = BTreeMap::new();
        for b in &batches {
            let rid = b.column(0).as_primitive::<Int64Type>();
            let v = datafusion::arrow::compute::cast(b.column(1), &DataType::Utf8)?;
            let v = v.as_string::<i32>();
            for i in 0..b.num_rows() {
                out.insert(rid.value(i), v.value(i).to_string());
            }
        }
        Ok(out)
    }
}

/// `count` distinct random pairs of record ids (i < j), seeded; all pairs when there are fewer.
fn sample_pairs(n: i64, count: usize, seed: u64) -> RecordBatch {
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

/// Pattern -> per-comparison match weights, total match weight and probability.
fn score_table(model: &Model, patterns: &[(Vec<i8>, u64)]) -> Result<RecordBatch> {
    let k = COMPARISONS.len();
    let mut level_b: Vec<Int8Builder> = (0..k).map(|_| Int8Builder::new()).collect();
    let mut mw_b: Vec<Float64Builder> = (0..k).map(|_| Float64Builder::new()).collect();
    let mut weight = Float64Builder::new();
    let mut prob = Float64Builder::new();
    for (p, _) in patterns {
        let contributions = model.contributions(p);
        for i in 0..k {
            level_b[i].append_value(p[i]);
            mw_b[i].append_value(contributions[i]);
        }
        let (w, pr) = model.score(p);
        weight.append_value(w);
        prob.append_value(pr);
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (c, b) in COMPARISONS.iter().zip(level_b.iter_mut()) {
        fields.push(Field::new(c.name, DataType::Int8, false));
        columns.push(Arc::new(b.finish()));
    }
    for (c, b) in COMPARISONS.iter().zip(mw_b.iter_mut()) {
        fields.push(Field::new(
            format!("mw_{}", c.name),
            DataType::Float64,
            false,
        ));
        columns.push(Arc::new(b.finish()));
    }
    fields.push(Field::new("match_weight", DataType::Float64, false));
    fields.push(Field::new("match_probability", DataType::Float64, false));
    columns.push(Arc::new(weight.finish()));
    columns.push(Arc::new(prob.finish()));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}
