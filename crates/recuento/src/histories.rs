//! Capture histories: from people to the table estimators read, and from a CSV file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use recuento_model::CaptureHistories;

/// Capture histories from a person per record: `person_of[i]` and `list_of[i]` for record `i`,
/// `stratum_of[i]` the record's stratum values (the most common non-empty value among a person's
/// records is the person's; ties go to the smallest value, so results are deterministic).
pub fn from_people(
    lists: &[String],
    strata: &[String],
    person_of: &[usize],
    list_of: &[usize],
    stratum_of: &[Vec<Option<String>>],
) -> CaptureHistories {
    let persons = person_of.iter().max().map_or(0, |m| m + 1);
    let mut pattern = vec![0u16; persons];
    let mut votes: Vec<Vec<BTreeMap<&str, usize>>> =
        vec![vec![BTreeMap::new(); strata.len()]; persons];
    for (r, &p) in person_of.iter().enumerate() {
        pattern[p] |= 1 << list_of[r];
        for (s, v) in stratum_of
            .get(r)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if let Some(v) = v {
                *votes[p][s].entry(v.as_str()).or_default() += 1;
            }
        }
    }
    let mut counts: BTreeMap<(Vec<String>, u16), u64> = BTreeMap::new();
    for p in 0..persons {
        let values: Vec<String> = votes[p]
            .iter()
            .map(|v| {
                v.iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map_or("unknown".to_string(), |(k, _)| (*k).to_string())
            })
            .collect();
        *counts.entry((values, pattern[p])).or_default() += 1;
    }
    CaptureHistories {
        lists: lists.to_vec(),
        strata: strata.to_vec(),
        rows: counts.into_iter().map(|((s, p), n)| (s, p, n)).collect(),
    }
}

/// Reads a capture-history CSV: one 0/1 column per list, an optional `count` column, and the
/// stratum columns named in `strata`. Every other column is a list.
///
/// # Errors
/// Values other than 0/1, bad counts, too many lists; each names the line and column.
pub fn read_csv(path: &Path, strata: &[String]) -> Result<CaptureHistories> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    for s in strata {
        if !headers.contains(s) {
            bail!(
                "{}: there is no stratum column '{s}'; columns are: {}",
                path.display(),
                headers.join(", ")
            );
        }
    }
    let count_col = headers.iter().position(|h| h == "count");
    let list_cols: Vec<usize> = (0..headers.len())
        .filter(|&i| Some(i) != count_col && !strata.contains(&headers[i]))
        .collect();
    if list_cols.len() < 2 || list_cols.len() > 16 {
        bail!(
            "{}: found {} list columns; recuento needs 2 to 16 lists",
            path.display(),
            list_cols.len()
        );
    }
    let stratum_cols: Vec<usize> = strata
        .iter()
        .filter_map(|s| headers.iter().position(|h| h == s))
        .collect();
    let mut counts: BTreeMap<(Vec<String>, u16), u64> = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec =
            rec.with_context(|| format!("{}: line {line} could not be read", path.display()))?;
        let mut pattern = 0u16;
        for (bit, &c) in list_cols.iter().enumerate() {
            match rec.get(c).map(str::trim) {
                Some("1") => pattern |= 1 << bit,
                Some("0") => {}
                other => bail!(
                    "{}: line {line}, column '{}': expected 0 or 1, found '{}'",
                    path.display(),
                    headers[c],
                    other.unwrap_or("")
                ),
            }
        }
        let n: u64 = match count_col {
            Some(c) => {
                let v = rec.get(c).unwrap_or("").trim();
                v.parse().with_context(|| {
                    format!(
                        "{}: line {line}, column 'count': '{v}' is not a whole number",
                        path.display()
                    )
                })?
            }
            None => 1,
        };
        if pattern == 0 {
            if n > 0 {
                bail!(
                    "{}: line {line}: a row on no list cannot be observed; remove it",
                    path.display()
                );
            }
            continue;
        }
        let values: Vec<String> = stratum_cols
            .iter()
            .map(|&c| rec.get(c).unwrap_or("").trim().to_string())
            .collect();
        *counts.entry((values, pattern)).or_default() += n;
    }
    Ok(CaptureHistories {
        lists: list_cols.iter().map(|&c| headers[c].clone()).collect(),
        strata: strata.to_vec(),
        rows: counts
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((s, p), n)| (s, p, n))
            .collect(),
    })
}

/// Writes capture histories as CSV (the same format [`read_csv`] reads).
///
/// # Errors
/// Write failures.
pub fn write_csv(h: &CaptureHistories, path: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header: Vec<String> = h.lists.clone();
    header.extend(h.strata.iter().cloned());
    header.push("count".into());
    w.write_record(&header)?;
    for (values, pattern, n) in &h.rows {
        let mut row: Vec<String> = (0..h.lists.len())
            .map(|i| if pattern & (1 << i) != 0 { "1" } else { "0" }.to_string())
            .collect();
        row.extend(values.iter().cloned());
        row.push(n.to_string());
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_to_patterns_with_strata() {
        let lists = vec!["a".to_string(), "b".to_string()];
        let h = from_people(
            &lists,
            &["sex".to_string()],
            &[0, 0, 1],
            &[0, 1, 1],
            &[vec![Some("M".into())], vec![None], vec![Some("F".into())]],
        );
        assert_eq!(
            h.rows,
            vec![(vec!["F".to_string()], 2, 1), (vec!["M".to_string()], 3, 1)]
        );
    }

    #[test]
    fn csv_round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.csv");
        std::fs::write(&p, "a,b,c,sex,count\n1,0,0,M,5\n1,1,0,M,2\n0,1,1,F,3\n").unwrap();
        let h = read_csv(&p, &["sex".to_string()]).unwrap();
        assert_eq!(h.lists, vec!["a", "b", "c"]);
        assert_eq!(h.observed(), 10);
        let q = dir.path().join("h2.csv");
        write_csv(&h, &q).unwrap();
        assert_eq!(read_csv(&q, &["sex".to_string()]).unwrap(), h);
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        let err = read_csv(&p, &[]).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("'b'"), "{err}");
    }
}
