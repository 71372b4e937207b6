//! Capture histories: which lists saw each person.

use serde::{Deserialize, Serialize};

/// A set of lists, one bit per list (bit `i` = list `i`). Up to 16 lists.
pub type CapturePattern = u16;

/// Counts of people per capture pattern and stratum: the input of every estimator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureHistories {
    /// List names; bit `i` of a pattern refers to `lists[i]`.
    pub lists: Vec<String>,
    /// Stratum column names (empty when there is one stratum).
    pub strata: Vec<String>,
    /// Rows: (stratum values, pattern, number of people). Patterns are never 0.
    pub rows: Vec<(Vec<String>, CapturePattern, u64)>,
}

impl CaptureHistories {
    /// Number of people seen by at least one list.
    pub fn observed(&self) -> u64 {
        self.rows.iter().map(|r| r.2).sum()
    }

    /// Counts per pattern for one stratum (index = pattern, length `2^lists`), or for all
    /// strata together when `stratum` is `None`.
    pub fn pattern_counts(&self, stratum: Option<&[String]>) -> Vec<u64> {
        let mut counts = vec![0u64; 1usize << self.lists.len()];
        for (values, pattern, n) in &self.rows {
            if stratum.is_none_or(|s| s == values.as_slice()) {
                counts[usize::from(*pattern)] += n;
            }
        }
        counts
    }

    /// Distinct stratum values, sorted.
    pub fn stratum_values(&self) -> Vec<Vec<String>> {
        let mut v: Vec<Vec<String>> = self.rows.iter().map(|r| r.0.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}
