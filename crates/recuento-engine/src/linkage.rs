//! The victim-list preset of the linker: its comparisons over the standardised `records` table.

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use recuento_model::LinkageConfig;
use recuento_text::compare;

use crate::linker::{LinkOutput, LinkPlan, PlanComparison, PlanRule};
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

impl Comparison {
    /// This comparison as a step of a [`LinkPlan`]; its columns are the blocking columns that
    /// feed it, so a rule on them leaves it out of EM on that rule's pairs.
    fn plan(&self) -> PlanComparison {
        PlanComparison {
            name: self.name.to_string(),
            sql: self.sql.to_string(),
            levels: self.levels.iter().map(|s| s.to_string()).collect(),
            columns: crate::standardise::BLOCKING_COLUMNS
                .iter()
                .filter(|c| crate::blocking::comparison_of(c) == self.name)
                .map(|c| c.to_string())
                .collect(),
            tf: None,
        }
    }
}

impl Engine {
    /// Blocks, compares, trains and scores the victim-list records (see [`Engine::run_link`]).
    /// `exclude_within` lists are never paired with themselves (declared free of duplicates).
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
        let mut rules = Vec::new();
        for (i, rule) in config.blocking.iter().enumerate() {
            let conditions = crate::blocking::conditions(rule, i)?;
            let columns = conditions
                .iter()
                .flat_map(|(a, b)| [a.clone(), b.clone()])
                .collect();
            rules.push(PlanRule {
                text: rule.0.join(", "),
                conditions,
                columns,
                filter: None,
                key_text: Vec::new(),
            });
        }
        let pair_filter = (!exclude_within.is_empty()).then(|| {
            let names: Vec<String> = exclude_within
                .iter()
                .map(|n| format!("'{}'", n.replace('\'', "''")))
                .collect();
            format!("NOT (l.list = r.list AND l.list IN ({}))", names.join(", "))
        });
        let sizes = self.list_sizes().await?;
        let plan = LinkPlan {
            comparisons: COMPARISONS.iter().map(Comparison::plan).collect(),
            rules,
            pair_filter,
            total_pairs: allowed_pairs(&sizes, |list| !exclude_within.iter().any(|e| e == list)),
            u_sample_pairs: config.u_sample_pairs,
            max_em_iterations: config.max_em_iterations,
            max_block_size: config.max_block_size,
            threshold: config.threshold,
            seed,
            frozen: None,
        };
        self.run_link(&plan, out_dir).await
    }

    /// Number of records of each list.
    pub(crate) async fn list_sizes(&self) -> Result<Vec<(String, u64)>> {
        let batches = self
            .ctx
            .sql("SELECT CAST(list AS VARCHAR) AS name, count(*) AS n FROM records GROUP BY CAST(list AS VARCHAR) ORDER BY name")
            .await?
            .collect()
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let name = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let name = name.as_string::<i32>();
            let n = b.column(1).as_primitive::<Int64Type>();
            for i in 0..b.num_rows() {
                out.push((name.value(i).to_string(), n.value(i) as u64));
            }
        }
        Ok(out)
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
        let mut out = Vec::new();
        self.scan_pairs(pairs_path, |l, r, p| {
            if p >= threshold {
                out.push((l, r, p));
            }
        })
        .await?;
        // pairs.parquet is in blocking order, not by record: sort, so that what is built on the links
        // does not depend on how the file was read.
        out.sort_by_key(|&(a, b, _)| (a, b));
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

    /// One column of the records as text, by rid, read from the records in memory (no query,
    /// no copy when the column is already text). For a million records this replaces a
    /// `String` per record with one Arrow array.
    ///
    /// # Errors
    /// Unknown column names.
    pub async fn record_text_column(&self, column: &str) -> Result<crate::linker::TextColumn> {
        let records = self.records_batch().await?;
        let index = records
            .schema()
            .index_of(column)
            .map_err(|_| Error::Plan(format!("the records have no column named '{column}'")))?;
        let v = datafusion::arrow::compute::cast(records.column(index), &DataType::Utf8)?;
        Ok(crate::linker::TextColumn(v.as_string::<i32>().clone()))
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

/// Record pairs a link type allows: all pairs across lists, plus the pairs within each list for
/// which `within(list)` holds.
pub(crate) fn allowed_pairs(sizes: &[(String, u64)], within: impl Fn(&str) -> bool) -> f64 {
    let n: f64 = sizes.iter().map(|s| s.1 as f64).sum();
    let all = n * (n - 1.0) / 2.0;
    let excluded: f64 = sizes
        .iter()
        .filter(|(name, _)| !within(name))
        .map(|(_, m)| *m as f64 * (*m as f64 - 1.0) / 2.0)
        .sum();
    all - excluded
}
