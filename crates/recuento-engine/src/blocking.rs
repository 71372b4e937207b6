//! Blocking: which record pairs are compared at all.
//!
//! Each rule is an equi-join of `records` with itself. Rules are OR-ed: a pair found by several
//! rules is kept once. Before any pair is generated, each rule's pair count and largest blocks
//! are computed from the number each record gets for its key tuple under each rule, and a rule
//! whose largest block exceeds `max_block_size` is refused with a message naming the rule and
//! the key.

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
        keys: &RuleKeys,
        records: &RecordBatch,
        max_block_size: usize,
    ) -> Result<Vec<RuleReport>> {
        let mut out = Vec::new();
        for (i, rule) in plan.rules.iter().enumerate() {
            let (pairs, blocks) = keys.blocks(i, 3);
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

/// How many left records ahead [`RulePairs`] asks for a block's bounds.
const OPEN_AHEAD: usize = 8;

/// What a pair must meet for a rule's condition to hold, known from each record alone: the
/// truth, per record, of the condition's parts that read one record only (`l.birth_date IS
/// NULL`), combined as the condition combines them. `holds(l, r)` false means the condition
/// is not true for the pair (`l < r` in record numbers, as pairs are compared), so
/// [`RulePairs`] need not hand the pair on; true means it may hold, and the condition itself
/// decides. A rule such as `l.birth_date IS NULL OR r.birth_date IS NULL` over a common name
/// generates ten times more pairs than meet it; testing each record once instead of each pair
/// saves gathering and testing the others (docs/benchmarks.md).
#[derive(Debug)]
pub(crate) enum Sided {
    /// True for the pairs whose left record is marked.
    Left(Vec<bool>),
    /// True for the pairs whose right record is marked.
    Right(Vec<bool>),
    /// Every part holds.
    All(Vec<Sided>),
    /// Some part holds.
    AnyOf(Vec<Sided>),
}

impl Sided {
    /// Whether the pair (`l`, `r`) may meet the condition.
    #[inline]
    pub(crate) fn holds(&self, l: usize, r: usize) -> bool {
        match self {
            Sided::Left(marks) => marks[l],
            Sided::Right(marks) => marks[r],
            Sided::All(parts) => parts.iter().all(|p| p.holds(l, r)),
            Sided::AnyOf(parts) => parts.iter().any(|p| p.holds(l, r)),
        }
    }
}

/// One blocking rule's pairs (`rid_l < rid_r`), generated from the records in memory in
/// batches of [`PAIR_BATCH`]: for each record `l` in record order, every record `r` whose keys
/// on the right of the rule's conditions equal `l`'s on the left, in record order. The pairs are
/// those of the SQL join `records l JOIN records r ON l.a = r.b …` (a missing key equals
/// nothing) with `l.rid < r.rid`, and for a rule that does not read the same both ways also
/// the pairs found with `l.rid > r.rid` whose reverse does not hold, given as
/// (`r.rid`, `l.rid`), so that each pair comes once.
///
/// Each batch comes with the number of pairs the rule's equalities generated for it: with
/// [`RulePairs::needing`], pairs that cannot meet the rule's condition are left out.
///
/// Written by hand rather than run as a DataFusion hash join: the keys are a few integers per
/// record, and DataFusion's join, which compares keys through a general row comparator and
/// runs as one partition so that pairs come in the same order every run, took about a quarter
/// of the CPU time of blocking and comparing on one thread (docs/benchmarks.md).
pub(crate) struct RulePairs<'a> {
    /// The rules' tuple numbers, and which rule this is.
    keys: &'a RuleKeys,
    rule: usize,
    /// What a pair must meet to be handed on, known from each record alone.
    needs: Option<&'a Sided>,
    /// Records by right-hand tuple number: those of tuple `g` are
    /// `members[bounds[g][0]..bounds[g][1]]`, in record order. For a rule that reads both
    /// ways the start moves past each left record as it is opened (left records come in
    /// record order), so that a block is entered where its pairs begin, without searching.
    bounds: Vec<[u32; 2]>,
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

/// Whether record pairs meet the rules' equalities, looked up by record number: every rule's
/// tuple numbers (as [`RulePairs`] numbers them) kept for the whole run. The pairs of each rule
/// must be checked against every other rule (a pair found by an earlier rule is not compared
/// again; each pair is flagged with the later rules it meets, for training). As SQL over the
/// pair's gathered key columns those checks were most of the columns gathered per pair, and
/// with one array per rule they were a dozen reads from memory per pair; a record's numbers
/// for all rules sit side by side here, so checking a pair against every rule reads two short
/// rows.
pub(crate) struct RuleKeys {
    /// Tuple numbers ([`NO_TUPLE`] when a key is missing): record `x`'s are
    /// `numbers[x * width..(x + 1) * width]`.
    numbers: Vec<u32>,
    width: usize,
    /// Per rule, the slots of its left and right numbers in a record's row (the same slot
    /// when every condition is `a = a`).
    slots: Vec<(usize, usize)>,
    /// Per rule, how many tuple numbers there are.
    tuples: Vec<usize>,
    both_ways: Vec<bool>,
    records: usize,
}

impl RuleKeys {
    /// The tuple numbers of rules with conditions `rules` (`a = b`, columns of `records`).
    pub(crate) fn new(records: &RecordBatch, rules: &[&[(String, String)]]) -> Result<RuleKeys> {
        if rules.len() > 64 {
            return Err(Error::Plan(format!(
                "at most 64 blocking rules are supported, not {}",
                rules.len()
            )));
        }
        let n = records.num_rows();
        // One slot per side of a rule, one for both when every condition is `a = a`.
        let mut slots = Vec::with_capacity(rules.len());
        let mut width = 0;
        for conds in rules {
            let same = conds.iter().all(|(a, b)| a == b);
            slots.push((width, if same { width } else { width + 1 }));
            width += if same { 1 } else { 2 };
        }
        // Filled rule by rule, so that only one rule's numbers are held besides the table.
        let mut numbers = vec![NO_TUPLE; n * width];
        let mut tuples = Vec::with_capacity(rules.len());
        for (conds, &(l, r)) in rules.iter().zip(&slots) {
            let (left, right, count) = tuple_numbers(records, conds)?;
            // With one slot, the right-hand numbers are the left-hand ones.
            let sides = if l == r {
                vec![(l, left)]
            } else {
                vec![(l, left), (r, right)]
            };
            for (slot, column) in sides {
                for (x, g) in column.into_iter().enumerate() {
                    if let Some(g) = g {
                        numbers[x * width + slot] = g;
                    }
                }
            }
            tuples.push(count);
        }
        Ok(RuleKeys {
            numbers,
            width,
            slots,
            tuples,
            both_ways: rules.iter().map(|c| reads_both_ways(c)).collect(),
            records: n,
        })
    }

    /// Record `x`'s left tuple number for rule `j`.
    fn left(&self, j: usize, x: usize) -> u32 {
        self.numbers[x * self.width + self.slots[j].0]
    }

    /// Record `x`'s left tuple number for rule `j`, if `x` is a record and has one.
    fn left_opt(&self, j: usize, x: usize) -> Option<u32> {
        let g = *self.numbers.get(x * self.width + self.slots[j].0)?;
        (g != NO_TUPLE).then_some(g)
    }

    /// Record `x`'s right tuple number for rule `j`.
    fn right(&self, j: usize, x: usize) -> u32 {
        self.numbers[x * self.width + self.slots[j].1]
    }

    /// The pairs rule `j`'s equalities generate (as the SQL self-join counts them: before its
    /// condition and before removing pairs other rules find; for a rule that reads both ways
    /// the ordered pairs halved, rounded up, since a record may meet the rule with itself), and
    /// its `top` largest blocks: (first record with the block's key on the left, records in
    /// the block), largest first, ties in record order.
    pub(crate) fn blocks(&self, j: usize, top: usize) -> (u64, Vec<(usize, u64)>) {
        let same = self.slots[j].0 == self.slots[j].1;
        let tuples = self.tuples[j];
        let mut left = vec![0u64; tuples];
        let mut right = vec![0u64; if same { 0 } else { tuples }];
        let mut first = vec![usize::MAX; tuples];
        for x in (0..self.records).rev() {
            let g = self.left(j, x);
            if g != NO_TUPLE {
                left[g as usize] += 1;
                first[g as usize] = x;
            }
            if !same {
                let g = self.right(j, x);
                if g != NO_TUPLE {
                    right[g as usize] += 1;
                }
            }
        }
        let mut pairs = 0u64;
        let mut sizes: Vec<(u64, usize)> = Vec::new();
        for g in 0..tuples {
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
        if !same && self.both_ways[j] {
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

    /// Whether records `a` and `b` meet rule `j`'s equalities, in either orientation.
    #[cfg(test)]
    pub(crate) fn meets(&self, j: usize, a: usize, b: usize) -> bool {
        self.masks(a, b) & (1 << j) != 0
    }

    /// Asks the processor to fetch record `x`'s row into cache (no effect on results).
    #[inline]
    pub(crate) fn prefetch(&self, x: usize) {
        prefetch_index::prefetch_index(&self.numbers, x * self.width);
    }

    /// The rules whose equalities records `a` and `b` meet, in either orientation: bit `j`
    /// for rule `j`.
    #[inline]
    pub(crate) fn masks(&self, a: usize, b: usize) -> u64 {
        let ra = &self.numbers[a * self.width..(a + 1) * self.width];
        let rb = &self.numbers[b * self.width..(b + 1) * self.width];
        let mut mask = 0u64;
        for (j, (&(l, r), &both_ways)) in self.slots.iter().zip(&self.both_ways).enumerate() {
            let forward = ra[l] != NO_TUPLE && ra[l] == rb[r];
            let backward = !both_ways && rb[l] != NO_TUPLE && rb[l] == ra[r];
            mask |= u64::from(forward || backward) << j;
        }
        mask
    }
}

impl<'a> RulePairs<'a> {
    /// The pairs of rule `rule` of `keys`, over records in record-number order (`rid` = row).
    pub(crate) fn new(keys: &'a RuleKeys, rule: usize) -> RulePairs<'a> {
        let tuples = keys.tuples[rule];
        // Records by right-hand tuple (counting sort: record order within each tuple).
        let mut start = vec![0u32; tuples + 1];
        for x in 0..keys.records {
            let g = keys.right(rule, x);
            if g != NO_TUPLE {
                start[g as usize + 1] += 1;
            }
        }
        for g in 0..tuples {
            start[g + 1] += start[g];
        }
        let mut fill = start.clone();
        let mut members = vec![0u32; start[tuples] as usize];
        let bounds = start.windows(2).map(|w| [w[0], w[1]]).collect();
        for r in 0..keys.records {
            let g = keys.right(rule, r);
            if g != NO_TUPLE {
                members[fill[g as usize] as usize] = r as u32;
                fill[g as usize] += 1;
            }
        }
        RulePairs {
            keys,
            rule,
            needs: None,
            bounds,
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

    /// Leaves out the pairs for which `needs` does not hold.
    pub(crate) fn needing(mut self, needs: Option<&'a Sided>) -> Self {
        self.needs = needs;
        self
    }
}

impl Iterator for RulePairs<'_> {
    /// A batch of pairs, and how many pairs the rule's equalities generated for it (more than
    /// the batch holds when some are left out).
    type Item = Result<(RecordBatch, u64)>;

    fn next(&mut self) -> Option<Result<(RecordBatch, u64)>> {
        let mut ls: Vec<i64> = Vec::with_capacity(PAIR_BATCH);
        let mut rs: Vec<i64> = Vec::with_capacity(PAIR_BATCH);
        let mut generated = 0u64;
        // Also handed on after many pairs left out, so that progress keeps moving.
        while ls.len() < PAIR_BATCH && generated < 64 * PAIR_BATCH as u64 {
            if self.pos == self.end {
                // Open the next left record that has its keys. Both sides share the tuple
                // numbers, so `bounds` covers every left tuple too (empty when no right-hand
                // record has it).
                let (keys, rule) = (self.keys, self.rule);
                let Some((l, g)) = (self.next_left..keys.records).find_map(|l| {
                    let g = keys.left(rule, l);
                    (g != NO_TUPLE).then_some((l, g as usize))
                }) else {
                    self.next_left = keys.records;
                    break;
                };
                self.next_left = l + 1;
                self.current = l;
                // Blocks are entered at random: the block of a left record a few places on
                // is asked for now (no effect on results), so that the reads overlap.
                if let Some(ahead) = keys.left_opt(rule, l + OPEN_AHEAD) {
                    prefetch_index::prefetch_index(&self.bounds, ahead as usize);
                }
                let [mut s, e] = self.bounds[g];
                // A rule that reads both ways finds each pair with the smaller record on the
                // left too: start after `l`. Earlier left records of the block were smaller,
                // so the start only moves on (by one when `l` is in its own block).
                if keys.both_ways[rule] {
                    while s < e && self.members[s as usize] as usize <= l {
                        s += 1;
                    }
                    self.bounds[g][0] = s;
                }
                self.pos = s as usize;
                self.end = e as usize;
                continue;
            }
            let (l, r) = (self.current, self.members[self.pos] as usize);
            self.pos += 1;
            let pair = if l < r {
                Some((l, r))
            } else if l > r && {
                let back = self.keys.left(self.rule, r);
                back == NO_TUPLE || back != self.keys.right(self.rule, l)
            } {
                // Found from the larger record only: the reverse (`r.a = l.b`) does not hold,
                // so `r` as the left record does not find it.
                Some((r, l))
            } else {
                None
            };
            if let Some((a, b)) = pair {
                generated += 1;
                if self.needs.is_none_or(|needs| needs.holds(a, b)) {
                    ls.push(a as i64);
                    rs.push(b as i64);
                }
            }
        }
        if generated == 0 {
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
            .map(|batch| (batch, generated))
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
            let keys = RuleKeys::new(&batch, &[&conds]).expect("keys");
            let ours = pairs_of(RulePairs::new(&keys, 0).map(|b| b.expect("batch").0));
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
                    assert_eq!(keys.meets(0, a, b), found, "{rule:?} ({a}, {b})");
                    assert_eq!(keys.meets(0, b, a), found, "{rule:?} ({b}, {a})");
                }
            }
        }
    }

    #[test]
    fn rules_kept_together_read_as_each_alone() {
        let batch = records(200, 11);
        let rules: Vec<Vec<(String, String)>> = [
            vec![("a", "a")],
            vec![("a", "b"), ("b", "a")],
            vec![("a", "b"), ("c", "c")],
            vec![("ta", "tb")],
            vec![("c", "c")],
        ]
        .iter()
        .map(|r| {
            r.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        })
        .collect();
        let all: Vec<&[(String, String)]> = rules.iter().map(Vec::as_slice).collect();
        let together = RuleKeys::new(&batch, &all).expect("keys");
        for (j, rule) in rules.iter().enumerate() {
            let alone = RuleKeys::new(&batch, &[rule.as_slice()]).expect("keys");
            assert_eq!(together.blocks(j, 3), alone.blocks(0, 3), "rule {j}");
            let pairs = |keys: &RuleKeys, k: usize| {
                pairs_of(RulePairs::new(keys, k).map(|b| b.expect("batch").0))
            };
            assert_eq!(pairs(&together, j), pairs(&alone, 0), "rule {j}");
            for a in 0..batch.num_rows() {
                for b in 0..batch.num_rows() {
                    assert_eq!(together.meets(j, a, b), alone.meets(0, a, b), "rule {j}");
                }
            }
        }
    }

    #[test]
    fn pairs_left_out_by_needs_are_counted_but_not_handed_on() {
        let batch = records(3000, 9);
        let n = batch.num_rows();
        // A rule that reads both ways, and one that finds some pairs from the larger record.
        let rules: Vec<Vec<(String, String)>> = vec![
            vec![("c".into(), "c".into())],
            vec![("a".into(), "b".into())],
        ];
        let all: Vec<&[(String, String)]> = rules.iter().map(Vec::as_slice).collect();
        let keys = RuleKeys::new(&batch, &all).expect("keys");
        let some = Sided::AnyOf(vec![
            Sided::Left((0..n).map(|x| x % 7 == 0).collect()),
            Sided::All(vec![
                Sided::Right((0..n).map(|x| x % 3 == 0).collect()),
                Sided::Left((0..n).map(|x| x % 2 == 0).collect()),
            ]),
        ]);
        let none = Sided::Left(vec![false; n]);
        for rule in 0..rules.len() {
            let every = pairs_of(RulePairs::new(&keys, rule).map(|b| b.expect("batch").0));
            assert!(every.len() > 64 * PAIR_BATCH || rule == 1, "rule {rule}");
            for needs in [&some, &none] {
                let (mut generated, mut batches) = (0u64, Vec::new());
                for b in RulePairs::new(&keys, rule).needing(Some(needs)) {
                    let (b, g) = b.expect("batch");
                    assert!(b.num_rows() as u64 <= g);
                    generated += g;
                    batches.push(b);
                }
                assert_eq!(generated, every.len() as u64, "rule {rule}");
                let kept: Vec<(i64, i64)> = every
                    .iter()
                    .copied()
                    .filter(|&(a, b)| needs.holds(a as usize, b as usize))
                    .collect();
                assert_eq!(pairs_of(batches), kept, "rule {rule}");
            }
        }
    }

    #[test]
    fn rule_pairs_come_in_record_order_and_in_batches() {
        let batch = records(3000, 8);
        let conds = vec![("c".to_string(), "c".to_string())];
        let keys = RuleKeys::new(&batch, &[&conds]).expect("keys");
        let batches: Vec<RecordBatch> = RulePairs::new(&keys, 0)
            .map(|b| {
                b.map(|(batch, generated)| {
                    assert_eq!(generated, batch.num_rows() as u64);
                    batch
                })
            })
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
