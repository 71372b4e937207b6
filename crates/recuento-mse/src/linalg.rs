//! Small dense linear algebra for IRLS: at most a few dozen parameters.
//!
//! Hand-written rather than `faer`: the systems are at most ~40×40 and symmetric positive
//! semi-definite, a plain Cholesky that leaves out dependent columns is exact enough and costs
//! nothing to build; `faer` would add a large dependency for no measurable gain at this size.

/// Solves `A x = b` for symmetric positive semi-definite `A` (row-major, n×n), taking the
/// columns in `order` and leaving out each one that depends on those kept before it (its
/// Cholesky pivot is below 1e-13 of its diagonal). Returns the solution for the kept columns
/// (left-out ones are `None`) and the last kept column's element of the kept submatrix's
/// inverse, `1 / pivot`: with the intercept last in `order`, the variance of the intercept
/// whenever it is identified at all (Rcapture's and `glm`'s aliased coefficients, done on the
/// normal equations). `None` when `A` has a negative pivot (not semi-definite).
pub fn pivoted_solve(
    a: &[f64],
    b: &[f64],
    n: usize,
    order: &[usize],
) -> Option<(Vec<Option<f64>>, f64)> {
    // Cholesky of the kept submatrix, in kept order: l[i][j] for kept columns i, j.
    let mut kept: Vec<usize> = Vec::with_capacity(n);
    let mut l: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut last_pivot = f64::NAN;
    for &c in order {
        let mut new_row = Vec::with_capacity(kept.len() + 1);
        for (i, &ki) in kept.iter().enumerate() {
            let s: f64 = (0..i).map(|k| l[i][k] * new_row[k]).sum();
            new_row.push((a[c * n + ki] - s) / l[i][i]);
        }
        let diagonal = a[c * n + c];
        let pivot = diagonal - new_row.iter().map(|v| v * v).sum::<f64>();
        if pivot < -1e-9 * diagonal.abs().max(1e-300) {
            return None;
        }
        if pivot <= 1e-13 * diagonal.abs().max(1e-300) {
            continue;
        }
        new_row.push(pivot.sqrt());
        l.push(new_row);
        kept.push(c);
        last_pivot = pivot;
    }
    let m = kept.len();
    let mut y = vec![0.0; m];
    for i in 0..m {
        let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[kept[i]] - s) / l[i][i];
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - s) / l[i][i];
    }
    let mut out = vec![None; n];
    for (i, &c) in kept.iter().enumerate() {
        out[c] = Some(x[i]);
    }
    Some((out, 1.0 / last_pivot))
}

/// Lower-triangular Cholesky factor of a symmetric positive definite `A` (row-major, n×n).
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                if d <= 1e-12 * a[i * n + i].abs().max(1e-300) {
                    return None;
                }
                l[i * n + j] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// P(χ²_df > x): the upper tail of the chi-square distribution (statrs' regularised upper
/// incomplete gamma function). 1 for x ≤ 0; NaN when `df` is not positive.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(x))
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection formula.
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system_and_leaves_out_dependent_columns() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let (x, inverse) = pivoted_solve(&a, &[2.0, 1.0], 2, &[1, 0]).unwrap();
        assert!((x[0].unwrap() - 0.5).abs() < 1e-12 && x[1].unwrap().abs() < 1e-12);
        // (A⁻¹)₀₀ = 3 / (4·3 − 2·2), whichever column comes first.
        assert!((inverse - 0.375).abs() < 1e-12, "{inverse}");
        // Column 1 repeats column 0: it is left out, and column 0 alone solves the system.
        let (x, inverse) = pivoted_solve(&[1.0, 1.0, 1.0, 1.0], &[2.0, 2.0], 2, &[0, 1]).unwrap();
        assert_eq!(x[1], None);
        assert!((x[0].unwrap() - 2.0).abs() < 1e-12 && (inverse - 1.0).abs() < 1e-12);
        // Not semi-definite.
        assert!(pivoted_solve(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0], 2, &[0, 1]).is_none());
    }

    #[test]
    fn chi2_tail_matches_the_tables() {
        // 95% and 99.9% points of χ² (Abramowitz & Stegun, table 26.8), and closed forms.
        for (x, df, p) in [
            (3.841_458_820_694_124, 1.0, 0.05),
            (18.307_038_053_275_146, 10.0, 0.05),
            (29.588_298_445_074_42, 10.0, 0.001),
            (124.342_113_404_070_8, 100.0, 0.05),
        ] {
            assert!((chi2_sf(x, df) - p).abs() < 1e-9 * p.max(1e-3), "{x} {df}");
        }
        // df = 2: exp(−x/2) exactly.
        for x in [0.1, 1.0, 7.0, 40.0] {
            assert!((chi2_sf(x, 2.0) - (-x / 2.0f64).exp()).abs() < 1e-13, "{x}");
        }
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        assert!((ln_gamma(1.0)).abs() < 1e-12);
        assert!((ln_gamma(11.0) - 3_628_800f64.ln()).abs() < 1e-10);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(1001.0) - 5_912.128_178_488_163).abs() < 1e-8);
    }
}
