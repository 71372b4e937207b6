//! Blocking: which record pairs are compared at all.
//!
//! Each rule is an equi-join of `records` with itself. Rules are OR-ed: a pair found by several
//! rules is kept once. Before any pair is generated, each rule's pair count and largest blocks
//! are computed from key counts (cheap aggregations), and a rule whose largest block exceeds
//! `max_block_size` is refused with a message naming the rule and the key.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type};
use datafusion::common::HashMap;
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

/// The rule's conditions with the two records exchanged (`r.a = l.b`).
#[cfg(test)]
fn reverse_condition(conds: &[(String, String)]) -> String {
    conds
        .iter()
        .map(|(a, b)| format!("r.{a} = l.{b}"))
        .collect::<Vec<_>>()
        .join(" AND ")
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
#[cfg(test)]
pub(crate) fn join_condition(conds: &[(String, String)]) -> String {
    conds
        .iter()
        .map(|(a, b)| format!("l.{a} = r.{b}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

impl Engine {
    /// Measures each rule of a plan (pairs, largest blocks) from its key numbers `keys`,
    /// without generating pairs; refuses a rule whose largest block has more than
    /// `max_block_size` records. `records` are in record-number order.
    ///
    /// # Errors
    /// [`Error::Plan`] for an exploding rule.
    pub(crate) async fn measure_rules(
        &self,
        plan: &crate::LinkPlan,
        keys: &[RuleKeys],
        records: &RecordBatch,
        max_block_size: usize,
    ) -> Result<Vec<RuleReport>> {
        let mut out = Vec::new();
        for (i, (rule, keys)) in plan.rules.iter().zip(keys).enumerate() {
            let (pairs, blocks) = keys.blocks(3);
            let mut largest = Vec::new();
            for (record, size) in blocks {
                let text = self.block_text(records, rule, record).await?;
                largest.push((text, size));
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

    /// The text of the key of the block that record `record` opens, in words: the rule's key
    /// texts (for key columns that hold numbers) or its key columns' values, joined by ` / `.
    async fn block_text(
        &self,
        records: &RecordBatch,
        rule: &crate::linker::PlanRule,
        record: usize,
    ) -> Result<String> {
        if rule.key_text.is_empty() {
            let schema = records.schema();
            let parts = rule
                .conditions
                .iter()
                .map(|(a, _)| -> Result<String> {
                    let value = records.column(schema.index_of(a)?).slice(record, 1);
                    let value = cast(&value, &DataType::Utf8)?;
                    let value = value.as_string::<i32>();
                    Ok(if value.is_null(0) {
                        String::new()
                    } else {
                        value.value(0).to_string()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(parts.join(" / "));
        }
        let text = rule
            .key_text
            .iter()
            .map(|t| format!("coalesce({t}, '')"))
            .collect::<Vec<_>>()
            .join(" || ' / ' || ");
        let batches = self
            .ctx
            .sql(&format!(
                "SELECT {text} FROM records WHERE rid = {record} LIMIT 1"
            ))
            .await?
            .collect()
            .await?;
        let text = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| -> Result<String> {
                let v = cast(b.column(0), &DataType::Utf8)?;
                Ok(v.as_string::<i32>().value(0).to_string())
            })
            .transpose()?;
        Ok(text.unwrap_or_default())
    }
}

/// Pairs per batch handed on by [`RulePairs`], as DataFusion's joins batch them.
const PAIR_BATCH: usize = 8192;

/// One blocking rule's pairs (`rid_l < rid_r`), generated from the records in memory in
/// batches of [`PAIR_BATCH`]: for each record `l` in record order, every record `r` whose keys
/// on the right of the rule's conditions equal `l`'s on the left, in record order. The pairs are
/// those of the SQL join `records l JOIN records r ON l.a = r.b …` (a missing key equals
/// nothing) with `l.rid < r.rid`, and for a rule that does not read the same both ways also
/// the pairs found with `l.rid > r.rid` whose reverse does not hold, given as
/// (`r.rid`, `l.rid`), so that each pair comes once.
///
/// Written by hand rather than run as a DataFusion hash join: the keys are a few integers per
/// record, and DataFusion's join, which compares keys through a general row comparator and
/// runs as one partition so that pairs come in the same order every run, took about a quarter
/// of the CPU time of blocking and comparing on one thread (docs/benchmarks.md).
pub(crate) struct RulePairs<'a> {
    /// The rule's tuple numbers.
    keys: &'a RuleKeys,
    /// Records by right-hand tuple number: those of tuple `g` are
    /// `members[start[g]..start[g + 1]]`, in record order.
    start: Vec<u32>,
    members: Vec<u32>,
    /// The next left record to open, and what is left of the current one's block.
    next_left: usize,
    current: usize,
    pos: usize,
    end: usize,
    schema: SchemaRef,
}

/// Per record, a number standing for a key value or tuple, or `None` when a key is missing.
pub(crate) type KeyNumbers = Vec<Option<u32>>;

/// Numbers for texts: a text already in `numbers` gets its number, a new one the next number
/// (in order of first appearance), a missing one `None`.
pub(crate) fn text_numbers<'a>(
    values: &'a StringArray,
    numbers: &mut HashMap<&'a str, u32>,
) -> KeyNumbers {
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                let next = numbers.len() as u32;
                *numbers.entry(v).or_insert(next)
            })
        })
        .collect()
}

/// Numbers for the values of two columns such that equal values, on either side, get equal
/// numbers; a missing value gets `None`. Key columns of numbers (the generic loader's) are used
/// as they are; any other type is compared as its text.
fn value_numbers(a: &ArrayRef, b: &ArrayRef, same: bool) -> Result<(KeyNumbers, KeyNumbers)> {
    if let (Some(x), Some(y)) = (
        a.as_primitive_opt::<UInt32Type>(),
        b.as_primitive_opt::<UInt32Type>(),
    ) {
        let x: KeyNumbers = x.iter().collect();
        let y = if same { x.clone() } else { y.iter().collect() };
        return Ok((x, y));
    }
    let a = cast(a, &DataType::Utf8)?;
    let b = cast(b, &DataType::Utf8)?;
    let (a, b): (&StringArray, &StringArray) = (a.as_string::<i32>(), b.as_string::<i32>());
    let mut numbers: HashMap<&str, u32> = HashMap::new();
    let x = text_numbers(a, &mut numbers);
    let y = if same {
        x.clone()
    } else {
        text_numbers(b, &mut numbers)
    };
    Ok((x, y))
}

/// Per record, the number of its key tuple on the left (`a` of each `a = b`) and on the right
/// (`b`) of a rule's conditions, equal tuples having equal numbers on both sides, or `None`
/// when a key is missing; and how many tuple numbers there are.
fn tuple_numbers(
    records: &RecordBatch,
    conds: &[(String, String)],
) -> Result<(KeyNumbers, KeyNumbers, usize)> {
    let n = records.num_rows();
    if n >= u32::MAX as usize {
        return Err(Error::Plan(format!(
            "{n} records are more than one run can block ({} at most)",
            u32::MAX - 1
        )));
    }
    let schema = records.schema();
    // Tuple numbers, one condition at a time: (number so far, this key) → a new number.
    let mut left: KeyNumbers = vec![Some(0); n];
    let mut right: KeyNumbers = vec![Some(0); n];
    let mut tuples = 1usize;
    for (a, b) in conds {
        let (x, y) = value_numbers(
            records.column(schema.index_of(a)?),
            records.column(schema.index_of(b)?),
            a == b,
        )?;
        let mut numbers: HashMap<u64, u32> = HashMap::with_capacity(tuples.max(1024));
        for (g, v) in left.iter_mut().zip(&x).chain(right.iter_mut().zip(&y)) {
            *g = match (*g, v) {
                (Some(g), Some(v)) => {
                    let next = numbers.len() as u32;
                    Some(
                        *numbers
                            .entry((u64::from(g) << 32) | u64::from(*v))
                            .or_insert(next),
                    )
                }
                _ => None,
            };
        }
        tuples = numbers.len();
    }
    Ok((left, right, tuples))
}

/// A missing key tuple in [`RuleKeys`].
const NO_TUPLE: u32 = u32::MAX;

/// Whether record pairs meet a rule's equalities, looked up by record number: the rule's tuple
/// numbers (as [`RulePairs`] numbers them) kept for the whole run. The pairs of each rule must
/// be checked against every other rule (a pair found by an earlier rule is not compared again;
/// each pair is flagged with the later rules it meets, for training), and as SQL over the
/// pair's gathered key columns those checks were most of the columns gathered per pair.
pub(crate) struct RuleKeys {
    /// Per record, its left tuple number ([`NO_TUPLE`] when a key is missing).
    left: Vec<u32>,
    /// Its right tuple number; empty when every condition is `a = a` (the same as `left`).
    right: Vec<u32>,
    /// How many tuple numbers there are.
    tuples: usize,
    both_ways: bool,
}

impl RuleKeys {
    /// The tuple numbers of the rule with conditions `conds` over `records`.
    pub(crate) fn new(records: &RecordBatch, conds: &[(String, String)]) -> Result<RuleKeys> {
        let (left, right, tuples) = tuple_numbers(records, conds)?;
        let flat =
            |k: KeyNumbers| -> Vec<u32> { k.into_iter().map(|g| g.unwrap_or(NO_TUPLE)).collect() };
        let same = conds.iter().all(|(a, b)| a == b);
        Ok(RuleKeys {
            left: flat(left),
            right: if same { Vec::new() } else { flat(right) },
            tuples,
            both_ways: reads_both_ways(conds),
        })
    }

    /// Per record, its right tuple number.
    fn right(&self) -> &[u32] {
        if self.right.is_empty() {
            &self.left
        } else {
            &self.right
        }
    }

    /// The pairs the rule's equalities generate (as the SQL self-join counts them: before its
    /// condition and before removing pairs other rules find; for a rule that reads both ways
    /// the ordered pairs halved, rounded up, since a record may meet the rule with itself), and
    /// its `top` largest blocks: (first record with the block's key on the left, records in
    /// the block), largest first, ties in record order.
    pub(crate) fn blocks(&self, top: usize) -> (u64, Vec<(usize, u64)>) {
        let same = self.right.is_empty();
        let count = |numbers: &[u32]| {
            let mut c = vec![0u64; self.tuples];
            for &g in numbers {
                if g != NO_TUPLE {
                    c[g as usize] += 1;
                }
            }
            c
        };
        let left = count(&self.left);
        let right = if same { Vec::new() } else { count(&self.right) };
        let mut first = vec![usize::MAX; self.tuples];
        for (record, &g) in self.left.iter().enumerate().rev() {
            if g != NO_TUPLE {
                first[g as usize] = record;
            }
        }
        let mut pairs = 0u64;
        let mut sizes: Vec<(u64, usize)> = Vec::new();
        for g in 0..self.tuples {
            let (p, size) = if same {
                (left[g] * left[g].saturating_sub(1) / 2, left[g])
            } else if left[g] > 0 && right[g] > 0 {
                (left[g] * right[g], left[g].max(right[g]))
            } else {
                continue;
            };
            pairs += p;
            if size > 0 {
                sizes.push((size, first[g]));
            }
        }
        if !same && self.both_ways {
            pairs = pairs.div_ceil(2);
        }
        sizes.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let largest = sizes
            .into_iter()
            .take(top)
            .map(|(size, record)| (record, size))
            .collect();
        (pairs, largest)
    }

    /// Whether records `a` and `b` meet the rule's equalities, in either orientation.
    #[inline]
    pub(crate) fn meets(&self, a: usize, b: usize) -> bool {
        let right = self.right();
        let forward = self.left[a] != NO_TUPLE && self.left[a] == right[b];
        forward || (!self.both_ways && self.left[b] != NO_TUPLE && self.left[b] == right[a])
    }
}

impl<'a> RulePairs<'a> {
    /// The pairs of the rule whose tuple numbers are `keys`, over records in record-number
    /// order (`rid` = row).
    pub(crate) fn new(keys: &'a RuleKeys) -> RulePairs<'a> {
        let tuples = keys.tuples;
        // Records by right-hand tuple (counting sort: record order within each tuple).
        let mut start = vec![0u32; tuples + 1];
        for &g in keys.right() {
            if g != NO_TUPLE {
                start[g as usize + 1] += 1;
            }
        }
        for g in 0..tuples {
            start[g + 1] += start[g];
        }
        let mut fill = start.clone();
        let mut members = vec![0u32; start[tuples] as usize];
        for (r, &g) in keys.right().iter().enumerate() {
            if g != NO_TUPLE {
                members[fill[g as usize] as usize] = r as u32;
                fill[g as usize] += 1;
            }
        }
        RulePairs {
            keys,
            start,
            members,
            next_left: 0,
            current: 0,
            pos: 0,
            end: 0,
            schema: Arc::new(Schema::new(vec![
                Field::new("rid_l", DataType::Int64, false),
                Field::new("rid_r", DataType::Int64, false),
            ])),
        }
    }
}

impl Iterator for RulePairs<'_> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let mut ls: Vec<i64> = Vec::with_capacity(PAIR_BATCH);
        let mut rs: Vec<i64> = Vec::with_capacity(PAIR_BATCH);
        while ls.len() < PAIR_BATCH {
            if self.pos == self.end {
                // Open the next left record that has its keys. Both sides share the tuple
                // numbers, so `start` covers every left tuple too (empty when no right-hand
                // record has it).
                let left = &self.keys.left;
                let Some((l, g)) = (self.next_left..left.len())
                    .find_map(|l| (left[l] != NO_TUPLE).then_some((l, left[l] as usize)))
                else {
                    self.next_left = left.len();
                    break;
                };
                self.next_left = l + 1;
                self.current = l;
                let (s, e) = (self.start[g] as usize, self.start[g + 1] as usize);
                // A rule that reads both ways finds each pair with the smaller record on the
                // left too: start after `l`.
                self.pos = if self.keys.both_ways {
                    s + self.members[s..e].partition_point(|&r| r as usize <= l)
                } else {
                    s
                };
                self.end = e;
                continue;
            }
            let (l, r) = (self.current, self.members[self.pos] as usize);
            self.pos += 1;
            if l < r {
                ls.push(l as i64);
                rs.push(r as i64);
            } else if l > r
                && (self.keys.left[r] == NO_TUPLE || self.keys.left[r] != self.keys.right()[l])
            {
                // Found from the larger record only: the reverse (`r.a = l.b`) does not hold,
                // so `r` as the left record does not find it.
                ls.push(r as i64);
                rs.push(l as i64);
            }
        }
        if ls.is_empty() {
            return None;
        }
        Some(
            RecordBatch::try_new(
                self.schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ls)) as ArrayRef,
                    Arc::new(Int64Array::from(rs)),
                ],
            )
            .map_err(Error::from),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use datafusion::arrow::array::UInt32Array;
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::prelude::SessionContext;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// The SQL join the pairs must equal: `l.rid < r.rid`, and for a rule that does not read
    /// both ways the pairs found from the larger record whose reverse does not hold.
    fn sql_join(conds: &[(String, String)]) -> String {
        let on = join_condition(conds);
        if reads_both_ways(conds) {
            format!("SELECT l.rid, r.rid FROM records l JOIN records r ON {on} WHERE l.rid < r.rid")
        } else {
            let reverse = reverse_condition(conds);
            format!(
                "SELECT least(l.rid, r.rid), greatest(l.rid, r.rid) FROM records l JOIN records r ON {on} \
                 WHERE l.rid < r.rid OR (l.rid > r.rid AND NOT coalesce({reverse}, false))"
            )
        }
    }

    fn pairs_of(batches: impl IntoIterator<Item = RecordBatch>) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for b in batches {
            let (l, r) = (
                b.column(0).as_primitive::<Int64Type>(),
                b.column(1).as_primitive::<Int64Type>(),
            );
            out.extend(l.values().iter().copied().zip(r.values().iter().copied()));
        }
        out
    }

    /// Random records whose key columns repeat a lot and are sometimes missing, as numbers
    /// (the generic loader's keys) and as texts (the victim-list preset's).
    fn records(n: usize, seed: u64) -> RecordBatch {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut numbers = |values: u32| -> ArrayRef {
            Arc::new(UInt32Array::from_iter((0..n).map(|_| {
                (rng.random::<f64>() > 0.1).then(|| rng.random_range(0..values))
            })))
        };
        let (a, b, c) = (numbers(6), numbers(6), numbers(3));
        let text = |a: &ArrayRef| -> ArrayRef {
            Arc::new(StringArray::from_iter(
                a.as_primitive::<UInt32Type>()
                    .iter()
                    .map(|v| v.map(|v| format!("v{v}"))),
            ))
        };
        let (ta, tb) = (text(&a), text(&b));
        RecordBatch::try_from_iter(vec![
            (
                "rid",
                Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
            ),
            ("a", a),
            ("b", b),
            ("c", c),
            ("ta", ta),
            ("tb", tb),
        ])
        .expect("batch")
    }

    #[tokio::test]
    async fn rule_pairs_are_the_sql_join() {
        let batch = records(300, 7);
        let ctx = SessionContext::new();
        ctx.register_batch("records", batch.clone())
            .expect("register");
        let rules: &[&[(&str, &str)]] = &[
            &[("a", "a")],
            &[("a", "a"), ("c", "c")],
            &[("a", "b"), ("b", "a")],
            &[("a", "b"), ("b", "a"), ("c", "c")],
            &[("a", "b")],
            &[("a", "b"), ("c", "c")],
            &[("ta", "ta"), ("c", "c")],
            &[("ta", "tb"), ("tb", "ta")],
            &[("ta", "tb")],
        ];
        for rule in rules {
            let conds: Vec<(String, String)> = rule
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            let keys = RuleKeys::new(&batch, &conds).expect("keys");
            let ours = pairs_of(RulePairs::new(&keys).map(|b| b.expect("batch")));
            let sql = pairs_of(
                ctx.sql(&sql_join(&conds))
                    .await
                    .expect("sql")
                    .collect()
                    .await
                    .expect("collect"),
            );
            assert!(!sql.is_empty(), "{rule:?}");
            assert!(ours.iter().all(|(l, r)| l < r), "{rule:?}");
            let once: BTreeSet<(i64, i64)> = ours.iter().copied().collect();
            assert_eq!(once.len(), ours.len(), "{rule:?}: a pair twice");
            assert_eq!(
                once,
                sql.iter().copied().collect::<BTreeSet<_>>(),
                "{rule:?}"
            );
            assert_eq!(ours.len(), sql.len(), "{rule:?}");
            // A pair meets the rule, either way round, exactly when the join finds it.
            for a in 0..batch.num_rows() {
                for b in a + 1..batch.num_rows() {
                    let found = once.contains(&(a as i64, b as i64));
                    assert_eq!(keys.meets(a, b), found, "{rule:?} ({a}, {b})");
                    assert_eq!(keys.meets(b, a), found, "{rule:?} ({b}, {a})");
                }
            }
        }
    }

    #[test]
    fn rule_pairs_come_in_record_order_and_in_batches() {
        let batch = records(3000, 8);
        let conds = vec![("c".to_string(), "c".to_string())];
        let keys = RuleKeys::new(&batch, &conds).expect("keys");
        let batches: Vec<RecordBatch> = RulePairs::new(&keys)
            .collect::<Result<_>>()
            .expect("batches");
        assert!(batches.len() > 1);
        assert!(
            batches[..batches.len() - 1]
                .iter()
                .all(|b| b.num_rows() == PAIR_BATCH)
        );
        let pairs = pairs_of(batches);
        assert!(pairs.windows(2).all(|w| w[0] < w[1]));
    }
}
