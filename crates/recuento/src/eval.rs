//! Linkage quality against a truth file: pairwise and B-cubed precision and recall.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use recuento_model::spreadsheet::from_safe_cell;
use serde::Serialize;

/// Linkage quality of predicted people against true people.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Records present in both files.
    pub records: usize,
    /// Records only in the predictions or only in the truth (not evaluated).
    pub unmatched_records: usize,
    /// Record pairs predicted to be the same person.
    pub predicted_pairs: u64,
    /// Record pairs that truly are the same person.
    pub true_pairs: u64,
    /// Predicted pairs that are true.
    pub correct_pairs: u64,
    /// Pairwise precision.
    pub precision: f64,
    /// Pairwise recall.
    pub recall: f64,
    /// Pairwise F1.
    pub f1: f64,
    /// B-cubed precision (Bagga & Baldwin 1998).
    pub bcubed_precision: f64,
    /// B-cubed recall.
    pub bcubed_recall: f64,
    /// People predicted.
    pub predicted_persons: usize,
    /// True people among the records.
    pub true_persons: usize,
}

/// Reads `list,record_id,person_id` into (list, record_id) -> person_id.
pub fn read_assignment(path: &Path) -> Result<BTreeMap<(String, String), String>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the header of {}", path.display()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| {
                format!(
                    "{} has no column '{name}' (it needs list,record_id,person_id)",
                    path.display()
                )
            })
    };
    let (l, r, p) = (col("list")?, col("record_id")?, col("person_id")?);
    let mut out = BTreeMap::new();
    // Lines counted from the records' byte offsets: the csv crate's own line numbers are off
    // after blank lines and with Windows line endings.
    let mut lines = recuento_engine::ingest::Lines::new(&bytes);
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| lines.line_at(p.byte()));
            let at = line.map_or(String::new(), |l| format!(" line {l}:"));
            anyhow::anyhow!("{}:{at} a row could not be read ({e})", path.display())
        })?;
        let line = rec.position().map_or(0, |p| lines.line_at(p.byte()));
        // Written by recuento with formulas quoted for spreadsheets: read without the quote.
        let cell = |c: usize| from_safe_cell(rec.get(c).unwrap_or("")).to_string();
        let key = (cell(l), cell(r));
        if out.insert(key.clone(), cell(p)).is_some() {
            bail!(
                "{}: line {line}: the record ({}, {}) appears twice",
                path.display(),
                key.0,
                key.1
            );
        }
    }
    Ok(out)
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Compares predicted people with true people over the records both files have.
pub fn evaluate(
    truth: &BTreeMap<(String, String), String>,
    predicted: &BTreeMap<(String, String), String>,
) -> Evaluation {
    let common: Vec<(&String, &String)> = predicted
        .iter()
        .filter_map(|(k, p)| truth.get(k).map(|t| (p, t)))
        .collect();
    let unmatched = predicted.len() + truth.len() - 2 * common.len();
    evaluate_aligned(&common, unmatched)
}

/// [`evaluate`] over records already aligned: (predicted person, true person) per record, plus
/// how many records only one side had. Lets a caller that holds both by record number skip
/// building maps keyed by text (a million records).
pub fn evaluate_aligned<P, T>(common: &[(P, T)], unmatched: usize) -> Evaluation
where
    P: std::hash::Hash + Eq + Copy,
    T: std::hash::Hash + Eq + Copy,
{
    let mut pred_size: HashMap<P, u64> = HashMap::new();
    let mut true_size: HashMap<T, u64> = HashMap::new();
    let mut both: HashMap<(P, T), u64> = HashMap::new();
    for &(p, t) in common {
        *pred_size.entry(p).or_default() += 1;
        *true_size.entry(t).or_default() += 1;
        *both.entry((p, t)).or_default() += 1;
    }
    let predicted_pairs: u64 = pred_size.values().map(|&n| pairs(n)).sum();
    let true_pairs: u64 = true_size.values().map(|&n| pairs(n)).sum();
    let correct_pairs: u64 = both.values().map(|&n| pairs(n)).sum();
    let precision = if predicted_pairs == 0 {
        1.0
    } else {
        correct_pairs as f64 / predicted_pairs as f64
    };
    let recall = if true_pairs == 0 {
        1.0
    } else {
        correct_pairs as f64 / true_pairs as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    let n = common.len().max(1) as f64;
    let (mut bp, mut br) = (0.0, 0.0);
    for &(p, t) in common {
        let overlap = both[&(p, t)] as f64;
        bp += overlap / pred_size[&p] as f64;
        br += overlap / true_size[&t] as f64;
    }
    Evaluation {
        records: common.len(),
        unmatched_records: unmatched,
        predicted_pairs,
        true_pairs,
        correct_pairs,
        precision,
        recall,
        f1,
        bcubed_precision: bp / n,
        bcubed_recall: br / n,
        predicted_persons: pred_size.len(),
        true_persons: true_size.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[(&str, &str, &str)]) -> BTreeMap<(String, String), String> {
        rows.iter()
            .map(|(l, r, p)| ((l.to_string(), r.to_string()), p.to_string()))
            .collect()
    }

    /// A repeated record is named by the line it is on, past blank lines and Windows line
    /// endings.
    #[test]
    fn a_repeated_record_is_named_by_its_line() {
        let dir = std::env::temp_dir().join(format!("recuento-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("truth.csv");
        std::fs::write(
            &path,
            "list,record_id,person_id\r\n\r\na,1,x\r\n\r\n\r\nb,1,x\r\na,1,y\r\n",
        )
        .unwrap();
        let e = read_assignment(&path).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("line 7: the record (a, 1) appears twice"), "{e}");
    }

    #[test]
    fn perfect_and_imperfect_linkage() {
        let truth = m(&[
            ("a", "1", "x"),
            ("b", "1", "x"),
            ("b", "2", "y"),
            ("c", "1", "y"),
        ]);
        let e = evaluate(&truth, &truth);
        assert_eq!((e.precision, e.recall, e.f1), (1.0, 1.0, 1.0));
        // One false merge of everything.
        let all = m(&[
            ("a", "1", "p"),
            ("b", "1", "p"),
            ("b", "2", "p"),
            ("c", "1", "p"),
        ]);
        let e = evaluate(&truth, &all);
        assert_eq!(e.predicted_pairs, 6);
        assert_eq!(e.correct_pairs, 2);
        assert!((e.recall - 1.0).abs() < 1e-12);
        assert!((e.precision - 2.0 / 6.0).abs() < 1e-12);
        assert!((e.bcubed_precision - 0.5).abs() < 1e-12);
        assert_eq!((e.predicted_persons, e.true_persons), (1, 2));
    }
}
