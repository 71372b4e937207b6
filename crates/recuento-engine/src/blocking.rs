//! Blocking: which record pairs are compared at all.
//!
//! Each rule is an equi-join of `records` with itself. Rules are OR-ed: a pair found by several
//! rules is kept once. Before any pair is generated, each rule's pair count and largest blocks
//! are computed from key counts (cheap aggregations), and a rule whose largest block exceeds
//! `max_block_size` is refused with a message naming the rule and the key.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use recuento_model::BlockingRule;
use serde::Serialize;

use crate::standardise::BLOCKING_COLUMNS;
use crate::{Engine, Error, Result};

/// What a blocking rule would produce, measured before generating pairs.
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    /// The rule as written (`surname1_key, given1_key`).
    pub rule: String,
    /// Record pairs the rule's equalities generate (before its filter, if it has one, and
    /// before removing pairs found by other rules).
    pub pairs: u64,
    /// The largest blocks: (key values, records in the block).
    pub largest_blocks: Vec<(String, u64)>,
}

/// A rule's conditions as (left column, right column).
pub(crate) fn conditions(rule: &BlockingRule, index: usize) -> Result<Vec<(String, String)>> {
    if rule.0.is_empty() {
        return Err(Error::Plan(format!("blocking rule {} is empty", index + 1)));
    }
    rule.0
        .iter()
        .map(|c| {
            let (l, r) = c.split_once('=').map_or((c.trim(), c.trim()), |(l, r)| (l.trim(), r.trim()));
            for col in [l, r] {
                if !BLOCKING_COLUMNS.contains(&col) {
                    return Err(Error::Plan(format!(
                        "blocking rule {} names the column '{col}', which recuento does not have; blocking columns are: {}",
                        index + 1,
                        BLOCKING_COLUMNS.join(", ")
                    )));
                }
            }
            Ok((l.to_string(), r.to_string()))
        })
        .collect()
}

/// The comparison a blocking column feeds: a rule on that column fixes the comparison's
/// agreement, so EM learns nothing about it from the rule's pairs.
pub(crate) fn comparison_of(column: &str) -> &'static str {
    match column {
        "given1_key" => "given_names",
        "surname1_key" | "surname2_key" | "surname1_phonetic" => "surnames",
        "birth_date" | "birth_year" => "birth_date",
        "event_date" | "event_month" => "event_date",
        "national_id" => "national_id",
        "facility" => "facility",
        "place" => "place",
        _ => "sex",
    }
}

/// A boolean SQL expression: does the pair (`l`, `r`) satisfy the rule, in either orientation,
/// and the rule's `filter` if it has one? (A filter is written over both records, so it holds
/// in both orientations or it is the user's choice that it does not.)
pub(crate) fn rule_predicate(conds: &[(String, String)], filter: Option<&str>) -> String {
    let equalities = equalities_predicate(conds);
    match filter {
        Some(f) => format!("({equalities} AND (({f}) IS TRUE))"),
        None => equalities,
    }
}

fn equalities_predicate(conds: &[(String, String)]) -> String {
    let forward = join_condition(conds);
    // `IS TRUE` rather than `coalesce(…, false)`: the same for a missing key, and it compiles
    // to a physical expression without the planner's rewrites.
    if reads_both_ways(conds) {
        format!("(({forward}) IS TRUE)")
    } else {
        let backward = conds
            .iter()
            .map(|(a, b)| format!("r.{a} = l.{b}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!("((({forward}) IS TRUE) OR (({backward}) IS TRUE))")
    }
}

/// Whether a rule finds the same pairs with its two records exchanged: every condition is
/// `a = a`, or the conditions come in exchanged couples (`surname1=surname2` with
/// `surname2=surname1`). Its join then needs only the pairs with `l` before `r`.
pub(crate) fn reads_both_ways(conds: &[(String, String)]) -> bool {
    conds
        .iter()
        .all(|(a, b)| conds.iter().any(|(c, d)| c == b && d == a))
}

/// The SQL join condition of a rule over aliases `l` and `r`.
pub(crate) fn join_condition(conds: &[(String, String)]) -> String {
    conds
        .iter()
        .map(|(a, b)| format!("l.{a} = r.{b}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

impl Engine {
    /// Measures each rule of a plan (pairs, largest blocks) without generating pairs; refuses a
    /// rule whose largest block has more than `max_block_size` records.
    ///
    /// # Errors
    /// [`Error::Plan`] for unknown columns or an exploding rule.
    pub(crate) async fn measure_rules(
        &self,
        plan: &crate::LinkPlan,
        max_block_size: usize,
    ) -> Result<Vec<RuleReport>> {
        let mut out = Vec::new();
        for (i, rule) in plan.rules.iter().enumerate() {
            let conds = rule.conditions.clone();
            let left: Vec<String> = conds.iter().map(|c| c.0.clone()).collect();
            let right: Vec<String> = conds.iter().map(|c| c.1.clone()).collect();
            let symmetric = left == right;
            // Counted as ordered pairs below, which a rule that reads both ways finds twice.
            let both_ways = !symmetric && reads_both_ways(&conds);
            let keys = |cols: &[String]| {
                let sel: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .map(|(j, c)| format!("{c} AS k{j}"))
                    .collect();
                let nn: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
                format!(
                    "SELECT {}, count(*) AS c FROM records WHERE {} GROUP BY {}",
                    sel.join(", "),
                    nn.join(" AND "),
                    cols.join(", ")
                )
            };
            let key_text = (0..conds.len())
                .map(|j| format!("CAST(a.k{j} AS VARCHAR)"))
                .collect::<Vec<_>>()
                .join(" || ' / ' || ");
            // Key numbers of the block (left side), to look its text up.
            let numbers: String = if rule.key_text.is_empty() {
                String::new()
            } else {
                (0..conds.len())
                    .map(|j| format!(", CAST(a.k{j} AS BIGINT) AS n{j}"))
                    .collect()
            };
            let sql = if symmetric {
                format!(
                    "SELECT {key_text} AS key, a.c AS size, a.c * (a.c - 1) / 2 AS pairs{numbers} FROM ({}) a ORDER BY size DESC, key",
                    keys(&left)
                )
            } else {
                let on = (0..conds.len())
                    .map(|j| format!("a.k{j} = b.k{j}"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                format!(
                    "SELECT {key_text} AS key, greatest(a.c, b.c) AS size, a.c * b.c AS pairs{numbers} FROM ({}) a JOIN ({}) b ON {on} ORDER BY size DESC, key",
                    keys(&left),
                    keys(&right)
                )
            };
            let batches = self.ctx.sql(&sql).await?.collect().await?;
            let mut pairs = 0u64;
            let mut largest = Vec::new();
            for b in &batches {
                let key = datafusion::arrow::compute::cast(
                    b.column(0),
                    &datafusion::arrow::datatypes::DataType::Utf8,
                )?;
                let key = key.as_string::<i32>();
                let size = b.column(1).as_primitive::<Int64Type>();
                let p = b.column(2).as_primitive::<Int64Type>();
                for r in 0..b.num_rows() {
                    pairs += p.value(r).max(0) as u64;
                    if largest.len() < 3 {
                        let text = if !rule.key_text.is_empty() {
                            let numbers: Vec<i64> = (0..conds.len())
                                .map(|j| b.column(3 + j).as_primitive::<Int64Type>().value(r))
                                .collect();
                            self.block_text(&left, &rule.key_text, &numbers).await?
                        } else if key.is_null(r) {
                            String::new()
                        } else {
                            key.value(r).to_string()
                        };
                        largest.push((text, size.value(r) as u64));
                    }
                }
            }
            if both_ways {
                // Rounded up: a bound, as a record may meet the rule with itself.
                pairs = pairs.div_ceil(2);
            }
            let text = rule.text.clone();
            if let Some((key, size)) = largest.first()
                && *size as usize > max_block_size
            {
                return Err(Error::Plan(format!(
                    "blocking rule {} ({text}) would put {size} records with the same key \"{key}\" in one block, more than max_block_size = {max_block_size}: it would compare about {pairs} pairs. Add a column to the rule (for example birth_year) or raise [linkage] max_block_size",
                    i + 1
                )));
            }
            out.push(RuleReport {
                rule: text,
                pairs,
                largest_blocks: largest,
            });
        }
        Ok(out)
    }

    /// The text of a block's key, for a rule whose key columns hold numbers: the key
    /// expressions evaluated on one record of the block.
    async fn block_text(
        &self,
        columns: &[String],
        text_sql: &[String],
        numbers: &[i64],
    ) -> Result<String> {
        let wanted = columns
            .iter()
            .zip(numbers)
            .map(|(c, n)| format!("{c} = {n}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let text = text_sql
            .iter()
            .map(|t| format!("coalesce({t}, '')"))
            .collect::<Vec<_>>()
            .join(" || ' / ' || ");
        let batches = self
            .ctx
            .sql(&format!(
                "SELECT {text} FROM records WHERE {wanted} LIMIT 1"
            ))
            .await?
            .collect()
            .await?;
        let text = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| -> Result<String> {
                let v = datafusion::arrow::compute::cast(
                    b.column(0),
                    &datafusion::arrow::datatypes::DataType::Utf8,
                )?;
                Ok(v.as_string::<i32>().value(0).to_string())
            })
            .transpose()?;
        Ok(text.unwrap_or_default())
    }
}
