//! Binomial draws for the latent-class sampler's multinomials.
//!
//! The Gibbs sweep draws a few dozen binomials with a new `(n, p)` each time, so the set-up
//! cost of each draw matters as much as the draw. `rand_distr`'s `Binomial` uses BTPE
//! (Kachitvichyanukul & Schmeiser 1988) for large means, whose set-up and returned state are
//! heavy; profiles put its set-up and draws at over a third of a sweep. Hörmann's BTRD
//! ("The generation of binomial random variates", *J. Statist. Comput. Simul.* 46, 1993) is
//! exact too and needs only a square root to set up; most draws are accepted after one uniform
//! and a few multiplications. Small means use inversion from zero, as `rand_distr` does.

use rand::Rng;

/// Mean below which inversion is used (Hörmann's BTRD requires n·p ≥ 10).
const INVERSION_BELOW: f64 = 10.0;

/// Draws from Binomial(n, p). `p` outside [0, 1] is clamped; NaN gives 0.
pub(crate) fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    // Both algorithms need p ≤ 1/2: draw the failures instead when p is larger.
    let (q, flipped) = if p > 0.5 { (1.0 - p, true) } else { (p, false) };
    let x = if n as f64 * q < INVERSION_BELOW {
        inversion(rng, n, q)
    } else {
        btrd(rng, n, q)
    };
    if flipped { n - x } else { x }
}

/// Inversion by sequential search from 0, for n·p < 10 and p ≤ 1/2. A search that runs past
/// 110 (probability below 1e-40 at these means, or a uniform that rounding left above the
/// total mass) starts again with a fresh uniform rather than truncating the distribution.
fn inversion<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    const MAX_X: u64 = 110;
    let q = 1.0 - p;
    let s = p / q;
    let a = (n as f64 + 1.0) * s;
    // q^n, with n·p < 10 never below e^-20 or so; powi needs an i32 exponent.
    let r0 = match i32::try_from(n) {
        Ok(n) => q.powi(n),
        Err(_) => (n as f64 * (-p).ln_1p()).exp(),
    };
    'again: loop {
        let mut u: f64 = rng.random();
        let mut r = r0;
        let mut x = 0;
        while u >= r {
            u -= r;
            x += 1;
            if x > MAX_X {
                continue 'again;
            }
            // P(x) / P(x − 1) = (n − x + 1)/x · p/q.
            r *= a / x as f64 - s;
        }
        return x;
    }
}

/// Hörmann's BTRD (transformed rejection with decomposition) for n·p ≥ 10 and p ≤ 1/2; the
/// step numbers are the paper's.
fn btrd<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    let nf = n as f64;
    let q = 1.0 - p;
    // Step 0: set-up.
    let npq = nf * p * q;
    let spq = npq.sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = nf * p + 0.5;
    let alpha = (2.83 + 5.1 / b) * spq;
    let v_r = 0.92 - 4.2 / b;
    let u_rv_r = 0.86 * v_r;
    let m = ((nf + 1.0) * p).floor();
    let r = p / q;
    let nr = (nf + 1.0) * r;
    loop {
        // Step 1: the central region, accepted without any test (about 86% of draws).
        let mut v: f64 = rng.random();
        if v <= u_rv_r {
            let u = v / v_r - 0.43;
            return ((2.0 * a / (0.5 - u.abs()) + b) * u + c).floor() as u64;
        }
        // Step 2: a point (u, v) in the rest of the hat.
        let u = if v >= v_r {
            rng.random::<f64>() - 0.5
        } else {
            let x = v / v_r - 0.93;
            v = rng.random::<f64>() * v_r;
            0.5f64.copysign(x) - x
        };
        // Step 3.0.
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + c).floor();
        // Also rejects the infinite k of us = 0.
        if !(0.0..=nf).contains(&k) {
            continue;
        }
        // Step 3.1.
        v *= alpha / (a / (us * us) + b);
        let km = (k - m).abs();
        if km <= 15.0 {
            // Step 3.2: f(k)/f(m) by the recursion of the probabilities.
            let mut f = 1.0;
            if m < k {
                let mut i = m + 1.0;
                while i <= k {
                    f *= nr / i - r;
                    i += 1.0;
                }
            } else if m > k {
                let mut i = k + 1.0;
                while i <= m {
                    v *= nr / i - r;
                    i += 1.0;
                }
            }
            if v <= f {
                return k as u64;
            }
            continue;
        }
        // Step 3.3: squeeze with the normal approximation of ln f(k)/f(m).
        let v = v.ln();
        let rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5);
        let t = -km * km / (2.0 * npq);
        if v < t - rho {
            return k as u64;
        }
        if v > t + rho {
            continue;
        }
        // Step 3.4: the exact test, with Stirling's formula and its corrections.
        let nm = nf - m + 1.0;
        let h = (m + 0.5) * ((m + 1.0) / (r * nm)).ln() + stirling_tail(m) + stirling_tail(nf - m);
        let nk = nf - k + 1.0;
        if v <= h + (nf + 1.0) * (nm / nk).ln() + (k + 0.5) * (nk * r / (k + 1.0)).ln()
            - stirling_tail(k)
            - stirling_tail(nf - k)
        {
            return k as u64;
        }
    }
}

/// ln k! − [(k + ½) ln(k + 1) − (k + 1) + ½ ln 2π], the error of Stirling's formula for k!:
/// a table below 10 and the series in 1/(k + 1) above.
fn stirling_tail(k: f64) -> f64 {
    const TABLE: [f64; 10] = [
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_29,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_09,
        0.016_644_691_189_821_19,
        0.013_876_128_823_070_75,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_09,
        0.009_255_462_182_712_733,
        0.008_330_563_433_362_87,
    ];
    if k < 10.0 {
        return TABLE[k as usize];
    }
    let k1 = k + 1.0;
    let k1sq = k1 * k1;
    (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / k1sq) / k1sq) / k1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::ln_gamma;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn stirling_tail_is_the_error_of_stirlings_formula() {
        for k in 0..40 {
            let k = f64::from(k);
            let exact = ln_gamma(k + 1.0)
                - ((k + 0.5) * (k + 1.0).ln() - (k + 1.0)
                    + 0.5 * (2.0 * std::f64::consts::PI).ln());
            assert!(
                (stirling_tail(k) - exact).abs() < 1e-10,
                "k = {k}: {} vs {exact}",
                stirling_tail(k)
            );
        }
    }

    fn ln_pmf(n: u64, p: f64, x: u64) -> f64 {
        let (n, x) = (n as f64, x as f64);
        ln_gamma(n + 1.0) - ln_gamma(x + 1.0) - ln_gamma(n - x + 1.0)
            + x * p.ln()
            + (n - x) * (1.0 - p).ln()
    }

    /// Pearson's χ² of `draws` draws against the exact probabilities, cells pooled so each
    /// expects at least 5, with its degrees of freedom.
    fn chi_square(n: u64, p: f64, draws: usize, seed: u64) -> (f64, usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut seen = vec![0u64; n as usize + 1];
        for _ in 0..draws {
            let x = binomial(&mut rng, n, p);
            assert!(x <= n, "draw {x} above n = {n}");
            seen[x as usize] += 1;
        }
        let (mut stat, mut cells) = (0.0, 0);
        let (mut observed, mut expected) = (0.0, 0.0);
        for x in 0..=n {
            observed += seen[x as usize] as f64;
            expected += ln_pmf(n, p, x).exp() * draws as f64;
            if expected >= 5.0 || x == n {
                stat += (observed - expected).powi(2) / expected.max(1e-300);
                cells += 1;
                observed = 0.0;
                expected = 0.0;
            }
        }
        (stat, cells.max(2) - 1)
    }

    /// Both branches (inversion and BTRD, with and without the flip to p ≤ 1/2) and BTRD's
    /// three acceptance paths (the recursion near the mode, the squeeze and the exact test
    /// in the tails) against the exact distribution. The bound is the χ² quantile at 1 − 1e-6
    /// (Wilson–Hilferty), so a correct sampler fails it about once in a million seeds, and an
    /// error of a fraction of a percent in any stretch of the distribution fails it.
    #[test]
    fn draws_follow_the_binomial_distribution() {
        let cases: [(u64, f64); 10] = [
            (1, 0.3),
            (7, 0.5),
            (40, 0.1),
            (200, 0.04),
            (25, 0.45),
            (100, 0.3),
            (300, 0.62),
            (1_000, 0.5),
            (6_000, 0.9),
            (50_000, 0.02),
        ];
        for (i, &(n, p)) in cases.iter().enumerate() {
            let (stat, df) = chi_square(n, p, 400_000, 17 + i as u64);
            let df_f = df as f64;
            let z = 4.753; // standard normal quantile at 1 − 1e-6
            let h = 2.0 / (9.0 * df_f);
            let bound = df_f * (1.0 - h + z * h.sqrt()).powi(3);
            assert!(
                stat < bound,
                "Binomial({n}, {p}): χ² = {stat:.1} on {df} degrees of freedom, above {bound:.1}"
            );
        }
    }

    #[test]
    fn edge_parameters() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(binomial(&mut rng, 0, 0.4), 0);
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
        assert_eq!(binomial(&mut rng, 10, f64::NAN), 0);
        assert_eq!(binomial(&mut rng, 10, -0.5), 0);
        assert_eq!(binomial(&mut rng, 10, 1.5), 10);
        // Huge n with a tiny mean: inversion without an i32 exponent.
        let x = binomial(&mut rng, 10_000_000_000, 1e-10);
        assert!(x < 20, "{x}");
        let x = binomial(&mut rng, 10_000_000_000, 0.5);
        assert!((x as f64 - 5e9).abs() < 5e5, "{x}");
    }
}
