//! One total and one interval from estimates made on several linkages drawn at random.
//!
//! The true linkage is unknown; each linkage drawn from the match probabilities is one
//! plausible version of it, as an imputation is of missing data. Rubin's rules (Rubin 1987,
//! *Multiple Imputation for Nonresponse in Surveys*) pool the estimates: the variance of the
//! pooled total is the mean variance within a linkage plus the variance between linkages,
//! inflated by 1 + 1/m for the finite number m of draws, with Student's t on Rubin's degrees of
//! freedom. The pooling is done, as the headline interval is made, on the log of the people
//! beyond a floor (Chao 1987's log-normal interval, which keeps the interval above the people
//! seen and skewed as the estimate is): here the floor is the fewest people seen in any draw, so
//! that draws that see more people are compared on the same scale.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The pooled total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    /// Pooled total: the floor plus the geometric mean of the people beyond it.
    pub estimate: f64,
    /// 2.5% end of the pooled interval.
    pub lower: f64,
    /// 97.5% end of the pooled interval.
    pub upper: f64,
    /// Share of the pooled variance that comes from the differences between linkages,
    /// (1 + 1/m)·B / T: near 0 when linkage barely matters, near 1 when it dominates.
    pub linkage_share: f64,
    /// Rubin's degrees of freedom (infinite when the linkages all give the same total).
    pub df: f64,
    /// Linkages pooled.
    pub draws: usize,
}

/// One linkage's estimate: the total, its standard error and the people seen under it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// Estimated total.
    pub estimate: f64,
    /// Its standard error.
    pub stderr: f64,
    /// People seen under this linkage.
    pub seen: f64,
}

/// Pools the estimates of several linkages by Rubin's rules. `None` with fewer than two draws
/// or a draw without a finite total and standard error.
pub fn pool(draws: &[Draw]) -> Option<Pooled> {
    let m = draws.len();
    if m < 2
        || draws
            .iter()
            .any(|d| !(d.estimate.is_finite() && d.stderr.is_finite() && d.seen.is_finite()))
    {
        return None;
    }
    let floor = draws.iter().map(|d| d.seen).fold(f64::INFINITY, f64::min);
    // The log of the people beyond the floor and its variance (delta method in the form of
    // Chao's interval, ln(1 + var/f0²)); a total at the floor counts as half a person beyond.
    let on_log: Vec<(f64, f64)> = draws
        .iter()
        .map(|d| {
            let f0 = (d.estimate - floor).max(0.5);
            (f0.ln(), (1.0 + (d.stderr * d.stderr) / (f0 * f0)).ln())
        })
        .collect();
    let mf = m as f64;
    let mean = on_log.iter().map(|x| x.0).sum::<f64>() / mf;
    let within = on_log.iter().map(|x| x.1).sum::<f64>() / mf;
    let between = on_log.iter().map(|x| (x.0 - mean).powi(2)).sum::<f64>() / (mf - 1.0);
    let inflated = (1.0 + 1.0 / mf) * between;
    let total = within + inflated;
    let df = if inflated > 0.0 {
        let r = inflated / within.max(f64::MIN_POSITIVE);
        (mf - 1.0) * (1.0 + 1.0 / r).powi(2)
    } else {
        f64::INFINITY
    };
    // Past a million degrees of freedom t is the normal to seven digits; statrs' t quantile
    // does not converge for the astronomic ones that rounding gives nearly equal linkages. The
    // normal's 1.96, as every other interval of recuento's, so that linkages that all agree
    // give the headline interval itself.
    let quantile = if df < 1e6 {
        StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(0.975)
    } else {
        1.96
    };
    let half = quantile * total.sqrt();
    Some(Pooled {
        estimate: floor + mean.exp(),
        lower: floor + (mean - half).exp(),
        upper: floor + (mean + half).exp(),
        linkage_share: if total > 0.0 { inflated / total } else { 0.0 },
        df,
        draws: m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linkages that all give the same total pool to that total's own log-normal interval.
    #[test]
    fn identical_linkages_give_the_headline_interval() {
        let d = Draw {
            estimate: 2965.0,
            stderr: 58.0,
            seen: 2395.0,
        };
        let p = pool(&[d; 20]).unwrap();
        let f0: f64 = 570.0;
        let c = (1.96 * (1.0 + 58.0f64.powi(2) / f0.powi(2)).ln().sqrt()).exp();
        assert!((p.estimate - 2965.0).abs() < 1e-9, "{p:?}");
        assert!((p.lower - (2395.0 + f0 / c)).abs() < 1e-9, "{p:?}");
        assert!((p.upper - (2395.0 + f0 * c)).abs() < 1e-9, "{p:?}");
        assert!(p.linkage_share < 1e-12, "{p:?}");
    }

    /// Rubin's rules by hand on two linkages, on the log of the people beyond the floor.
    #[test]
    fn two_linkages_follow_rubins_rules() {
        let draws = [
            Draw {
                estimate: 1100.0,
                stderr: 30.0,
                seen: 1000.0,
            },
            Draw {
                estimate: 1250.0,
                stderr: 40.0,
                seen: 1010.0,
            },
        ];
        let p = pool(&draws).unwrap();
        let (a, b) = (100.0f64, 250.0f64);
        let (va, vb) = ((1.0 + 900.0 / (a * a)).ln(), (1.0 + 1600.0 / (b * b)).ln());
        let mean = (a.ln() + b.ln()) / 2.0;
        let within = (va + vb) / 2.0;
        let between = (a.ln() - mean).powi(2) + (b.ln() - mean).powi(2);
        let total = within + 1.5 * between;
        let df = (1.5 * between / within + 1.0).powi(2) / (1.5 * between / within).powi(2);
        assert!((p.df - df).abs() < 1e-9, "{} {df}", p.df);
        let t = StudentsT::new(0.0, 1.0, df).unwrap().inverse_cdf(0.975);
        assert!((p.estimate - (1000.0 + mean.exp())).abs() < 1e-9);
        assert!((p.lower - (1000.0 + (mean - t * total.sqrt()).exp())).abs() < 1e-6);
        assert!((p.upper - (1000.0 + (mean + t * total.sqrt()).exp())).abs() < 1e-6);
        assert!((p.linkage_share - 1.5 * between / total).abs() < 1e-12);
        // The pooled interval is wider than either linkage's own.
        assert!(p.upper - p.lower > 2.0 * 1.96 * 40.0, "{p:?}");
    }

    #[test]
    fn too_few_or_broken_draws_pool_to_nothing() {
        let d = Draw {
            estimate: 10.0,
            stderr: 1.0,
            seen: 8.0,
        };
        assert!(pool(&[d]).is_none());
        let broken = Draw {
            stderr: f64::NAN,
            ..d
        };
        assert!(pool(&[d, broken]).is_none());
    }
}
