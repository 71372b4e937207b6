//! Bayesian model averaging over decomposable graphical models (Madigan & York 1997,
//! *Biometrika* 84(1); the dga package of Johndrow, Lum & Ball).
//!
//! Each decomposable graph on the lists is a model of dependence between them: an edge lets two
//! lists depend on each other (one refers people to the other, say), a missing edge makes them
//! independent given the rest. The cell probabilities of the full 2^t table get a
//! hyper-Dirichlet prior with δ prior people per cell, so every clique margin is
//! Dirichlet-multinomial and the marginal likelihood of a graph factorises over its cliques and
//! separators:
//!
//! ```text
//! p(table | G, N) = N! / (n₀! Π nₓ!) · Π_C ML(C) / Π_S ML(S)
//! ML(A) = Γ(α) / Γ(N + α) · Π_a Γ(n_a + α_A) / Γ(α_A),  α_A = δ·2^(t−|A|),  α = δ·2^t
//! ```
//!
//! where `n_a` are the counts of margin A with the unobserved cell filled with n₀ = N − n.
//! With a prior on N (∝ 1/N, as dga and LCMCR use) and a uniform prior over graphs, the joint
//! posterior over (graph, N) is computed exactly on a grid of n₀ = 0, 1, …, a cap; nothing is
//! sampled. The result is the posterior of N averaged over graphs, the posterior weight of each
//! graph, and seeded draws from the averaged posterior (used to sum strata).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::linalg::ln_gamma;

/// Settings of the model average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DgaOptions {
    /// Prior people per cell of the full table (the hyper-Dirichlet δ). `None`: 2^−t, one
    /// prior person in all, the choice HRDAG's analyses use with dga.
    #[serde(default)]
    pub delta: Option<f64>,
    /// Seed of the draws from the posterior (they are only used to sum strata).
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    1
}

impl Default for DgaOptions {
    fn default() -> Self {
        DgaOptions {
            delta: None,
            seed: default_seed(),
        }
    }
}

/// A decomposable graph on the lists, as the cliques and separators of a junction tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Edges as a bitmask over the pairs (i, j), i < j, in [`pair_index`] order.
    pub edges: u32,
    /// Maximal cliques, each a bitmask of lists.
    pub cliques: Vec<u16>,
    /// Separators of a junction tree (one fewer than the cliques; empty ones join components).
    pub separators: Vec<u16>,
}

impl Graph {
    /// The graph in words: cliques joined by `+`, lists in a clique by `:`
    /// (`a:b + c` means a and b depend on each other, c is independent of both).
    pub fn describe(&self, lists: &[String]) -> String {
        self.cliques
            .iter()
            .map(|c| {
                (0..lists.len())
                    .filter(|i| c & (1 << i) != 0)
                    .map(|i| lists[i].as_str())
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Index of the pair (i, j), i < j, among the t(t − 1)/2 pairs of `t` lists.
pub fn pair_index(i: usize, j: usize, t: usize) -> usize {
    debug_assert!(i < j && j < t);
    i * (2 * t - i - 1) / 2 + (j - i - 1)
}

/// Every decomposable (chordal) graph on `t` lists, with a junction tree each: 8 for three
/// lists, 61 for four, 822 for five, 18,154 for six.
pub fn decomposable_graphs(t: usize) -> Vec<Graph> {
    let pairs = t * (t - 1) / 2;
    let mut out = Vec::new();
    for edges in 0u32..(1 << pairs) {
        let mut adj = vec![0u16; t];
        for i in 0..t {
            for j in i + 1..t {
                if edges & (1 << pair_index(i, j, t)) != 0 {
                    adj[i] |= 1 << j;
                    adj[j] |= 1 << i;
                }
            }
        }
        if !is_chordal(&adj) {
            continue;
        }
        let cliques = maximal_cliques(&adj);
        let separators = junction_tree_separators(&cliques);
        out.push(Graph {
            edges,
            cliques,
            separators,
        });
    }
    out
}

/// A graph is chordal iff its vertices can be removed one by one, each simplicial (its
/// remaining neighbours form a clique) when removed.
fn is_chordal(adj: &[u16]) -> bool {
    let t = adj.len();
    let mut left: u16 = ((1u32 << t) - 1) as u16;
    while left != 0 {
        let simplicial = (0..t).filter(|v| left & (1 << v) != 0).find(|&v| {
            let nb = adj[v] & left;
            (0..t)
                .filter(|u| nb & (1 << u) != 0)
                .all(|u| (adj[u] | (1 << u)) & nb == nb)
        });
        match simplicial {
            Some(v) => left &= !(1 << v),
            None => return false,
        }
    }
    true
}

fn is_clique(adj: &[u16], set: u16) -> bool {
    (0..adj.len())
        .filter(|v| set & (1 << v) != 0)
        .all(|v| (adj[v] | (1 << v)) & set == set)
}

/// Maximal cliques by brute force over subsets (at most 2^6 of them).
fn maximal_cliques(adj: &[u16]) -> Vec<u16> {
    let t = adj.len();
    let all = (1u16..(1 << t)).filter(|&s| is_clique(adj, s));
    let cliques: Vec<u16> = all.collect();
    cliques
        .iter()
        .copied()
        .filter(|&c| !cliques.iter().any(|&d| d != c && d & c == c))
        .collect()
}

/// Separators of a junction tree: a maximum-weight spanning tree of the cliques, weighted by
/// the size of their intersections (Kruskal). For a chordal graph this tree has the running
/// intersection property; disconnected components are joined by empty separators.
fn junction_tree_separators(cliques: &[u16]) -> Vec<u16> {
    let k = cliques.len();
    let mut edges: Vec<(u32, usize, usize)> = Vec::new();
    for a in 0..k {
        for b in a + 1..k {
            edges.push(((cliques[a] & cliques[b]).count_ones(), a, b));
        }
    }
    edges.sort_by(|x, y| y.0.cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let mut parent: Vec<usize> = (0..k).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut separators = Vec::new();
    for (_, a, b) in edges {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra] = rb;
            separators.push(cliques[a] & cliques[b]);
        }
    }
    separators
}

/// Posterior of one graph, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphPosterior {
    /// The graph in words ([`Graph::describe`]).
    pub graph: String,
    /// Posterior probability of the graph.
    pub weight: f64,
    /// Posterior median of N under this graph alone.
    pub median: f64,
}

/// The averaged posterior of N.
#[derive(Debug, Clone)]
pub struct DgaResult {
    /// Posterior median of N.
    pub median: f64,
    /// 2.5% posterior quantile.
    pub lower: f64,
    /// 97.5% posterior quantile.
    pub upper: f64,
    /// Posterior mean of N.
    pub mean: f64,
    /// Graphs by posterior weight, highest first.
    pub graphs: Vec<GraphPosterior>,
    /// Number of graphs averaged.
    pub graph_count: usize,
    /// Posterior probability of n₀ = `pmf_start`, `pmf_start` + 1, …: every value but the
    /// outer 10⁻⁷ of each tail. Empty when that range is too wide to hold integer by integer
    /// (millions of people under a graph that leaves the unseen to the prior); the quantiles
    /// and draws then come from the grid.
    pub pmf: Vec<f64>,
    /// The first n₀ of `pmf`.
    pub pmf_start: u64,
    /// The largest n₀ considered.
    pub cap: u64,
    /// Posterior mass in the top tenth of 0 … `cap`: when not small, the cap cuts the tail.
    pub tail_mass: f64,
    /// Posterior weight of the graph that joins every list in one clique. Under it the table
    /// is saturated: the lists say nothing about the people on no list, and that part of the
    /// posterior of N is the prior's (δ and 1/N).
    pub saturated_weight: f64,
    /// The δ used.
    pub delta: f64,
    /// Seeded draws of N from the averaged posterior.
    pub draws: Vec<f64>,
}

/// Draws kept for summing strata.
const DRAWS: usize = 4_000;

/// Integers × graphs the exact second pass may evaluate (a few seconds at most).
const EXACT_BUDGET: usize = 200_000_000;

/// Integers × margins the exact second pass may hold in memory (8 bytes each: 256 MiB). A
/// posterior wider than this (millions of people under a graph that leaves the unseen to the
/// prior) is summarised from the grid instead.
const EXACT_MEMORY: usize = 1 << 25;

/// A graph whose posterior weight is below this share of the total is left out of the exact
/// integer mixture (together such graphs hold less than 2·10⁻⁸ of the posterior, even with all
/// 18,154 graphs of six lists).
const NEGLIGIBLE: f64 = 1e-12;

/// The values of n₀ where every graph's posterior is first evaluated: each integer up to 200,
/// then steps of 0.5% up to n₀ = 40,000, then steps of √n₀. The posterior of n₀ under any
/// graph has a standard deviation of at least √n₀ (the unseen count is at least Poisson given
/// the parameters), so the steps never exceed one standard deviation and sums over the grid are
/// as good as over every integer (the trapezoid rule is spectrally accurate for smooth, peaked
/// integrands: with steps of one standard deviation a Gaussian's error is e^(−2π²), 3·10⁻⁹).
/// Steps of 0.5% beyond 40,000 would be wider than the posterior of a table of millions of
/// people, and its evidence would be missed.
fn coarse_grid(cap: u64) -> (Vec<u64>, Vec<f64>) {
    let mut points: Vec<u64> = (0..=cap.min(200)).collect();
    let mut x = 200.0f64;
    while (x as u64) < cap {
        x = if x < 40_000.0 {
            (x * 1.005).max(x + 1.0)
        } else {
            x + x.sqrt()
        };
        let p = (x.round() as u64).min(cap);
        if points.last() != Some(&p) {
            points.push(p);
        }
    }
    // Trapezoid weights standing for the integers around each point.
    let m = points.len();
    let weights = (0..m)
        .map(|i| {
            let left = if i == 0 {
                0.5
            } else {
                (points[i] - points[i - 1]) as f64 / 2.0
            };
            let right = if i + 1 == m {
                0.5
            } else {
                (points[i + 1] - points[i]) as f64 / 2.0
            };
            left + right
        })
        .collect();
    (points, weights)
}

/// The pieces of the log posterior that depend on n₀, at the given values of n₀:
/// for each margin A (a bitmask of lists), ML(A) − its n₀-free part; and the multinomial
/// coefficient with the 1/N prior.
struct Terms {
    points: usize,
    margins: Vec<f64>,
    common: Vec<f64>,
}

fn terms(counts: &[u64], t: usize, delta: f64, n0s: &[u64]) -> Terms {
    let n: u64 = counts[1..].iter().sum();
    let cells = 1usize << t;
    let alpha_total = delta * f64::from(1u32 << t);
    let points = n0s.len();
    let mut margins = vec![0.0f64; cells * points];
    for a in 0..cells {
        let size = (a as u16).count_ones();
        let alpha_a = delta * f64::from(1u32 << (t as u32 - size));
        let mut margin = vec![0u64; 1 << size];
        for (h, &c) in counts.iter().enumerate().skip(1) {
            margin[compress(h, a)] += c;
        }
        let fixed: f64 = ln_gamma(alpha_total)
            + margin[1..]
                .iter()
                .map(|&m| ln_gamma(m as f64 + alpha_a) - ln_gamma(alpha_a))
                .sum::<f64>()
            - ln_gamma(alpha_a);
        let row = &mut margins[a * points..(a + 1) * points];
        for (v, &n0) in row.iter_mut().zip(n0s) {
            let n0 = n0 as f64;
            *v = fixed + ln_gamma(margin[0] as f64 + n0 + alpha_a)
                - ln_gamma(n as f64 + n0 + alpha_total);
        }
    }
    // Π nₓ! is the same for every n₀ and graph, so it is left out.
    let common = n0s
        .iter()
        .map(|&n0| {
            let big_n = (n + n0) as f64;
            ln_gamma(big_n + 1.0) - ln_gamma(n0 as f64 + 1.0) - big_n.ln()
        })
        .collect();
    Terms {
        points,
        margins,
        common,
    }
}

impl Terms {
    /// log p(table, n₀ | G) at every point, up to a constant shared by all graphs.
    fn graph(&self, g: &Graph, out: &mut [f64]) {
        let p = self.points;
        out.copy_from_slice(&self.common);
        for &c in &g.cliques {
            let row = &self.margins[c as usize * p..(c as usize + 1) * p];
            out.iter_mut().zip(row).for_each(|(x, r)| *x += r);
        }
        for &s in &g.separators {
            let row = &self.margins[s as usize * p..(s as usize + 1) * p];
            out.iter_mut().zip(row).for_each(|(x, r)| *x -= r);
        }
    }
}

/// Averages over every decomposable graph on the lists (3 to 6 of them). `counts[pattern]`
/// holds the people per capture pattern (bit i = on `lists[i]`); `counts[0]` is ignored.
/// `None` when there are fewer than 3 or more than 6 lists, or nobody was observed.
///
/// Two passes: every graph on a grid of n₀ fine enough for its evidence and median
/// (each integer up to 200, then steps of 0.5%); then the graphs that carry any weight on every integer n₀ of the central
/// range, for exact quantiles of the average.
pub fn posterior(counts: &[u64], lists: &[String], options: &DgaOptions) -> Option<DgaResult> {
    posterior_within(counts, lists, options, EXACT_BUDGET)
}

/// [`posterior`] with `budget` integers × graphs for the exact second pass.
fn posterior_within(
    counts: &[u64],
    lists: &[String],
    options: &DgaOptions,
    budget: usize,
) -> Option<DgaResult> {
    let t = lists.len();
    if !(3..=6).contains(&t) || counts.len() != 1 << t {
        return None;
    }
    let n: u64 = counts[1..].iter().sum();
    if n == 0 {
        return None;
    }
    let delta = options.delta.unwrap_or(1.0 / f64::from(1u32 << t));
    // Wide enough that the tail beyond it is negligible for all but graphs that leave the
    // unseen cell unidentified (their weight is then small; the tail mass says so).
    let cap = 20 * n + 1_000;
    let (points, widths) = coarse_grid(cap);
    let coarse = terms(counts, t, delta, &points);
    let ln_widths: Vec<f64> = widths.iter().map(|w| w.ln()).collect();
    let graphs = decomposable_graphs(t);
    // Pass 1: evidence, median and the coarse mixture, rescaled as the running maximum grows.
    let mut mixture = vec![0.0f64; points.len()];
    let mut mixture_max = f64::NEG_INFINITY;
    let mut per_graph: Vec<(usize, f64, f64)> = Vec::with_capacity(graphs.len());
    let mut lp = vec![0.0f64; points.len()];
    let mut mass = vec![0.0f64; points.len()];
    for (gi, g) in graphs.iter().enumerate() {
        coarse.graph(g, &mut lp);
        lp.iter_mut().zip(&ln_widths).for_each(|(x, w)| *x += w);
        let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !m.is_finite() {
            continue;
        }
        mass.iter_mut()
            .zip(&lp)
            .for_each(|(x, l)| *x = (l - m).exp());
        let total: f64 = mass.iter().sum();
        let median = n as f64 + interpolated_quantile(&points, &mass, total, 0.5);
        per_graph.push((gi, m + total.ln(), median));
        if m > mixture_max {
            let scale = (mixture_max - m).exp();
            mixture.iter_mut().for_each(|x| *x *= scale);
            mixture_max = m;
        }
        let scale = (m - mixture_max).exp();
        mixture
            .iter_mut()
            .zip(&mass)
            .for_each(|(x, p)| *x += scale * p);
    }
    let total: f64 = mixture.iter().sum();
    if per_graph.is_empty() || total.is_nan() || total <= 0.0 {
        return None;
    }
    let log_evidence = per_graph
        .iter()
        .map(|g| g.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = per_graph.iter().map(|g| (g.1 - log_evidence).exp()).sum();
    let weights: Vec<f64> = per_graph
        .iter()
        .map(|g| (g.1 - log_evidence).exp() / z)
        .collect();
    let mean = n as f64
        + mixture
            .iter()
            .zip(&points)
            .map(|(p, &x)| p * x as f64)
            .sum::<f64>()
            / total;
    let top_tenth = cap - cap / 10;
    let tail_mass = mixture
        .iter()
        .zip(&points)
        .filter(|(_, x)| **x >= top_tenth)
        .map(|(p, _)| p)
        .sum::<f64>()
        / total;
    // The central range: all but 10⁻⁷ of each tail of the coarse mixture.
    let mut acc = 0.0;
    let (mut lo, mut hi) = (0u64, cap);
    let mut lo_set = false;
    for (i, p) in mixture.iter().enumerate() {
        acc += p / total;
        if !lo_set && acc >= 1e-7 {
            lo = points[i.saturating_sub(1)];
            lo_set = true;
        }
        if acc >= 1.0 - 1e-7 {
            hi = points[(i + 1).min(points.len() - 1)];
            break;
        }
    }
    // Pass 2: the exact mixture on every integer of the central range, unless that range and
    // the graphs that carry weight are so many that it would take minutes or gigabytes (a very
    // wide, heavy-tailed posterior): then each grid point's mass stands for the integers
    // between the midpoints to its neighbours, spread evenly over them, which the grid's
    // fineness makes accurate to a fraction of a standard deviation.
    let width = usize::try_from(hi - lo + 1).unwrap_or(usize::MAX);
    let carrying = weights.iter().filter(|w| **w >= NEGLIGIBLE).count();
    let exact =
        width.saturating_mul(carrying) <= budget && width.saturating_mul(1 << t) <= EXACT_MEMORY;
    // Bins of integers n₀ (first, last) and their posterior mass.
    let mut bins: Vec<(u64, u64, f64)> = Vec::new();
    let mut pmf = Vec::new();
    if exact {
        let range: Vec<u64> = (lo..=hi).collect();
        pmf = vec![0.0f64; range.len()];
        let fine = terms(counts, t, delta, &range);
        let mut lp = vec![0.0f64; range.len()];
        for (&(gi, evidence, _), &w) in per_graph.iter().zip(&weights) {
            if w < NEGLIGIBLE {
                continue;
            }
            fine.graph(&graphs[gi], &mut lp);
            pmf.iter_mut()
                .zip(&lp)
                .for_each(|(x, l)| *x += w * (l - evidence).exp());
        }
        let kept: f64 = pmf.iter().sum();
        pmf.iter_mut().for_each(|x| *x /= kept);
        bins = range.iter().zip(&pmf).map(|(&x, &p)| (x, x, p)).collect();
    } else {
        for (i, (&p, &x)) in mixture.iter().zip(&points).enumerate() {
            let from = if i == 0 {
                x
            } else {
                (points[i - 1] + x) / 2 + 1
            };
            let to = if i + 1 == points.len() {
                x
            } else {
                (x + points[i + 1]) / 2
            };
            let (from, to) = (from.max(lo), to.min(hi));
            if from <= to {
                bins.push((from, to, p / total));
            }
        }
        let kept: f64 = bins.iter().map(|b| b.2).sum();
        bins.iter_mut().for_each(|b| b.2 /= kept);
    }
    let mut cdf = Vec::with_capacity(bins.len());
    let mut acc = 0.0;
    for b in &bins {
        acc += b.2;
        cdf.push(acc);
    }
    let q = |p: f64| n as f64 + integer_at(&bins, &cdf, p) as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let draws = (0..DRAWS)
        .map(|_| {
            let u: f64 = rng.random::<f64>() * acc;
            n as f64 + integer_at(&bins, &cdf, u) as f64
        })
        .collect();
    let mut summaries: Vec<GraphPosterior> = per_graph
        .iter()
        .zip(&weights)
        .map(|(&(gi, _, median), &weight)| GraphPosterior {
            graph: graphs[gi].describe(lists),
            weight,
            median,
        })
        .collect();
    summaries.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    let every_list = ((1u32 << t) - 1) as u16;
    let saturated_weight = per_graph
        .iter()
        .zip(&weights)
        .filter(|((gi, _, _), _)| graphs[*gi].cliques == [every_list])
        .map(|(_, w)| *w)
        .sum();
    Some(DgaResult {
        median: q(0.5),
        lower: q(0.025),
        upper: q(0.975),
        mean,
        graph_count: graphs.len(),
        graphs: summaries,
        pmf,
        pmf_start: lo,
        cap,
        tail_mass,
        saturated_weight,
        delta,
        draws,
    })
}

/// The `p` quantile of a distribution known at `points` (masses `mass`, summing to `total`),
/// spreading each point's mass evenly between the midpoints to its neighbours.
fn interpolated_quantile(points: &[u64], mass: &[f64], total: f64, p: f64) -> f64 {
    let target = p * total;
    let mut acc = 0.0;
    for i in 0..points.len() {
        if acc + mass[i] >= target {
            let left = if i == 0 {
                points[0] as f64
            } else {
                (points[i - 1] + points[i]) as f64 / 2.0
            };
            let right = if i + 1 == points.len() {
                points[i] as f64
            } else {
                (points[i] + points[i + 1]) as f64 / 2.0
            };
            let share = if mass[i] > 0.0 {
                (target - acc) / mass[i]
            } else {
                0.0
            };
            return (left + share * (right - left)).round();
        }
        acc += mass[i];
    }
    *points.last().unwrap_or(&0) as f64
}

/// The smallest integer whose cumulative probability reaches `p`, in `bins` of integers
/// (first, last, mass: the mass spread evenly over them) whose cumulative masses are `cdf`.
fn integer_at(bins: &[(u64, u64, f64)], cdf: &[f64], p: f64) -> u64 {
    let i = cdf.partition_point(|c| *c < p).min(bins.len() - 1);
    let (first, last, mass) = bins[i];
    if first == last || mass <= 0.0 {
        return first;
    }
    let before = cdf[i] - mass;
    let per = mass / (last - first + 1) as f64;
    let j = ((p - before) / per).ceil() - 1.0;
    first + (j.max(0.0) as u64).min(last - first)
}

/// The pattern `h` restricted to the lists in `a`, as a pattern over those lists.
fn compress(h: usize, a: usize) -> usize {
    let mut out = 0;
    let mut bit = 0;
    for i in 0..16 {
        if a & (1 << i) != 0 {
            if h & (1 << i) != 0 {
                out |= 1 << bit;
            }
            bit += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_decomposable_graphs_are_the_known_ones() {
        // OEIS A058862: labelled chordal graphs on 3, 4, 5, 6 nodes.
        assert_eq!(decomposable_graphs(3).len(), 8);
        assert_eq!(decomposable_graphs(4).len(), 61);
        assert_eq!(decomposable_graphs(5).len(), 822);
        assert_eq!(decomposable_graphs(6).len(), 18_154);
        // A 4-cycle is not decomposable; a junction tree has one separator fewer than cliques.
        for g in decomposable_graphs(5) {
            assert_eq!(g.separators.len() + 1, g.cliques.len());
        }
    }

    #[test]
    fn chain_graph_has_the_right_junction_tree() {
        // a – b – c: cliques {a,b} and {b,c}, separator {b}.
        let t = 3;
        let edges = (1 << pair_index(0, 1, t)) | (1 << pair_index(1, 2, t));
        let g = decomposable_graphs(t)
            .into_iter()
            .find(|g| g.edges == edges)
            .unwrap();
        assert_eq!(g.cliques, vec![0b011, 0b110]);
        assert_eq!(g.separators, vec![0b010]);
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(g.describe(&names), "a:b + b:c");
    }

    /// The posterior of N under the independence graph alone has a closed form: each list is a
    /// Beta–binomial with Beta(α_j, α_j), α_j = δ·2^(t−1), so
    /// p(N | data) ∝ (1/N) · N!/(N − n)! · Π_j B(n_j + α_j, N − n_j + α_j).
    #[test]
    fn independence_graph_matches_the_beta_binomial_closed_form() {
        let t = 3;
        let counts: Vec<u64> = vec![0, 60, 49, 4, 247, 112, 142, 12];
        let n: u64 = counts.iter().sum();
        let delta = 0.125;
        let aj = delta * 4.0;
        let list_n: Vec<u64> = (0..t)
            .map(|j| {
                (1..8)
                    .filter(|h| h & (1 << j) != 0)
                    .map(|h| counts[h])
                    .sum()
            })
            .collect();
        let cap = (20 * n + 1000) as usize;
        let log_p: Vec<f64> = (0..=cap)
            .map(|n0| {
                let big = (n + n0 as u64) as f64;
                let mut l = -big.ln() + ln_gamma(big + 1.0) - ln_gamma(n0 as f64 + 1.0);
                for &nj in &list_n {
                    let nj = nj as f64;
                    l += ln_gamma(nj + aj) + ln_gamma(big - nj + aj) - ln_gamma(big + 2.0 * aj);
                }
                l
            })
            .collect();
        let m = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = log_p.iter().map(|x| (x - m).exp()).sum();
        let closed: Vec<f64> = log_p.iter().map(|x| (x - m).exp() / z).collect();
        // Run the machinery on the same table and pick the independence graph's own posterior
        // by giving it all the weight: compare through a table where only it is evaluated.
        let g = decomposable_graphs(t)
            .into_iter()
            .find(|g| g.edges == 0)
            .unwrap();
        assert_eq!(g.cliques, vec![0b001, 0b010, 0b100]);
        assert!(g.separators.iter().all(|s| *s == 0));
        let ours = single_graph_posterior(&counts, t, delta, &g, cap);
        for (a, b) in ours.iter().zip(&closed) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    /// The posterior of N under one graph, recomputed here from first principles on every
    /// integer n₀.
    fn single_graph_posterior(
        counts: &[u64],
        t: usize,
        delta: f64,
        g: &Graph,
        cap: usize,
    ) -> Vec<f64> {
        single_graph(counts, t, delta, g, cap).0
    }

    /// [`single_graph_posterior`] and the log of its normalising sum (the graph's evidence up
    /// to a constant shared by all graphs).
    fn single_graph(
        counts: &[u64],
        t: usize,
        delta: f64,
        g: &Graph,
        cap: usize,
    ) -> (Vec<f64>, f64) {
        let log_p: Vec<f64> = (0..=cap as u64)
            .map(|n0| log_posterior_at(counts, t, delta, g, n0))
            .collect();
        let m = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = log_p.iter().map(|x| (x - m).exp()).sum();
        (
            log_p.iter().map(|x| (x - m).exp() / z).collect(),
            m + z.ln(),
        )
    }

    /// log p(table, n₀ | G) up to a constant shared by all graphs and values of n₀, from first
    /// principles: the clique and separator margins' Dirichlet-multinomial likelihoods.
    fn log_posterior_at(counts: &[u64], t: usize, delta: f64, g: &Graph, n0: u64) -> f64 {
        let n: u64 = counts[1..].iter().sum();
        let alpha_total = delta * f64::from(1u32 << t);
        let ml = |a: u16, n0: f64| -> f64 {
            let size = a.count_ones();
            let alpha_a = delta * f64::from(1u32 << (t as u32 - size));
            let mut margin = vec![0f64; 1 << size];
            for (h, &c) in counts.iter().enumerate().skip(1) {
                margin[compress(h, a as usize)] += c as f64;
            }
            margin[0] += n0;
            ln_gamma(alpha_total) - ln_gamma(n as f64 + n0 + alpha_total)
                + margin
                    .iter()
                    .map(|m| ln_gamma(m + alpha_a) - ln_gamma(alpha_a))
                    .sum::<f64>()
        };
        let big = (n + n0) as f64;
        let mut l = -big.ln() + ln_gamma(big + 1.0) - ln_gamma(n0 as f64 + 1.0);
        l += g.cliques.iter().map(|&c| ml(c, n0 as f64)).sum::<f64>();
        l -= g.separators.iter().map(|&s| ml(s, n0 as f64)).sum::<f64>();
        l
    }

    #[test]
    fn the_grid_fallback_gives_nearly_the_exact_quantiles() {
        let counts: Vec<u64> = vec![0, 60, 49, 4, 247, 112, 142, 12];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let options = DgaOptions::default();
        let exact = posterior_within(&counts, &names, &options, usize::MAX).unwrap();
        let grid = posterior_within(&counts, &names, &options, 0).unwrap();
        for (e, g) in [
            (exact.lower, grid.lower),
            (exact.median, grid.median),
            (exact.upper, grid.upper),
        ] {
            assert!((e - g).abs() <= 0.005 * e, "{e} vs {g}");
        }
        // The grid's summary holds no integer-by-integer posterior, and its draws lie in the
        // same range as the exact ones.
        assert!(grid.pmf.is_empty() && exact.pmf.len() > 100);
        let range = |r: &DgaResult| {
            let lo = r.draws.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.draws.iter().copied().fold(0.0, f64::max);
            (lo, hi)
        };
        let ((elo, ehi), (glo, ghi)) = (range(&exact), range(&grid));
        assert!((elo - glo).abs() < 0.02 * elo && (ehi - ghi).abs() < 0.02 * ehi);
    }

    /// Millions of people: the grid's steps stay within the posterior's spread (steps of 0.5%
    /// were wider than it, so the graphs' evidence was missed and their weights were wrong),
    /// and a posterior wider than memory allows integer by integer is summarised from the grid
    /// (it took 16 GB and a minute with 35 million people).
    #[test]
    fn tables_of_millions_of_people_keep_their_posterior_and_memory() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // Ten million people, three independent lists (chances 0.3, 0.4, 0.5), each cell its
        // expected count: every graph fits, and none carries all the weight.
        let big: Vec<u64> = (0..8u32)
            .map(|h| {
                let p: f64 = [0.3, 0.4, 0.5]
                    .iter()
                    .enumerate()
                    .map(|(j, p)| if h & (1 << j) != 0 { *p } else { 1.0 - p })
                    .product();
                if h == 0 { 0 } else { (1e7 * p).round() as u64 }
            })
            .collect();
        let options = DgaOptions::default();
        let r = posterior(&big, &names, &options).unwrap();
        assert!(r.lower <= r.median && r.median <= r.upper);
        // The evidence of each graph but the saturated one (whose posterior of N is the
        // prior's, flat far beyond the people seen), summed over every integer n₀ near its
        // peak: the ratios of the graph weights must be those.
        let delta = r.delta;
        let evidence = |g: &Graph| {
            let log_p = |n0: u64| log_posterior_at(&big, 3, delta, g, n0);
            // The log posterior is concave in n₀: its peak by ternary search.
            let n: u64 = big[1..].iter().sum();
            let (mut a, mut b) = (0u64, 20 * n);
            while b - a > 2 {
                let (m1, m2) = (a + (b - a) / 3, b - (b - a) / 3);
                if log_p(m1) < log_p(m2) {
                    a = m1;
                } else {
                    b = m2;
                }
            }
            let peak = (a..=b)
                .max_by(|x, y| log_p(*x).total_cmp(&log_p(*y)))
                .unwrap();
            let top = log_p(peak);
            // Every integer out to where the posterior is e^-40 of its peak.
            let mut sum = 0.0;
            let within = |n0: u64| Some(log_p(n0) - top).filter(|l| *l >= -40.0);
            for n0 in peak.. {
                let Some(l) = within(n0) else { break };
                sum += l.exp();
            }
            for n0 in (0..peak).rev() {
                let Some(l) = within(n0) else { break };
                sum += l.exp();
            }
            top + sum.ln()
        };
        let graphs: Vec<Graph> = decomposable_graphs(3)
            .into_iter()
            .filter(|g| g.cliques != [0b111])
            .collect();
        let exact: Vec<(String, f64)> = graphs
            .iter()
            .map(|g| (g.describe(&names), evidence(g)))
            .collect();
        let weight = |d: &str| r.graphs.iter().find(|x| x.graph == d).unwrap().weight;
        let (reference, e_ref) = &exact[0];
        for (d, e) in &exact[1..] {
            let (w, w_ref) = (weight(d), weight(reference));
            assert!(w > 1e-15 && w_ref > 1e-15, "{d}: {w}, {reference}: {w_ref}");
            // To 1e-4 (the log-gammas of ten million carry rounding of about 1e-7 each); steps
            // of 0.5% were 0.27 off.
            let ours = (w / w_ref).ln();
            assert!(
                (ours - (e - e_ref)).abs() < 1e-4,
                "{d}: {ours} vs {}",
                e - e_ref
            );
        }
    }

    #[test]
    fn averaged_posterior_is_a_mixture_of_the_graphs() {
        let counts: Vec<u64> = vec![0, 60, 49, 4, 247, 112, 142, 12];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let r = posterior(&counts, &names, &DgaOptions::default()).unwrap();
        assert_eq!(r.graph_count, 8);
        let w: f64 = r.graphs.iter().map(|g| g.weight).sum();
        assert!((w - 1.0).abs() < 1e-9);
        assert!((r.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // Mixture of per-graph posteriors weighted by the graph weights.
        let cap = r.cap as usize;
        let delta = r.delta;
        let mut mix = vec![0.0; cap + 1];
        let graphs = decomposable_graphs(3);
        for g in &graphs {
            let d = g.describe(&names);
            let weight = r.graphs.iter().find(|x| x.graph == d).unwrap().weight;
            for (m, p) in mix
                .iter_mut()
                .zip(single_graph_posterior(&counts, 3, delta, g, cap))
            {
                *m += weight * p;
            }
        }
        // The graph weights from the coarse grid equal those from every integer (to 3e-7 here).
        let evidences: Vec<(String, f64)> = graphs
            .iter()
            .map(|g| {
                (
                    g.describe(&names),
                    single_graph(&counts, 3, delta, g, cap).1,
                )
            })
            .collect();
        let top = evidences
            .iter()
            .map(|e| e.1)
            .fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = evidences.iter().map(|e| (e.1 - top).exp()).sum();
        for (d, e) in &evidences {
            let exact = (e - top).exp() / z;
            let ours = r.graphs.iter().find(|x| &x.graph == d).unwrap().weight;
            assert!(
                (exact - ours).abs() < 1e-9 + 1e-5 * exact,
                "{d}: {exact} vs {ours}"
            );
        }
        // Same on the central range (which holds all but 2·10⁻⁷ of the mass).
        let start = r.pmf_start as usize;
        let central: f64 = mix[start..start + r.pmf.len()].iter().sum();
        assert!(central > 1.0 - 1e-6, "{central}");
        for (a, b) in mix[start..].iter().zip(&r.pmf) {
            assert!((a / central - b).abs() < 1e-7, "{a} {b}");
        }
        assert!(r.lower <= r.median && r.median <= r.upper);
        assert!(r.draws.len() == DRAWS && r.draws.iter().all(|d| *d >= 626.0));
    }
}
