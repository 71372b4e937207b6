//! From linked pairs to people.
//!
//! [`connected_components`] joins records linked by a pair at or above the threshold, directly or
//! through other records (union–find with path halving and union by size). People are numbered
//! by their lowest record, so the same links always give the same person ids. [`Diagnostics`]
//! summarise cluster sizes and flag clusters that are suspiciously large.
//!
//! ```
//! let people = recuento_cluster::connected_components(4, &[(0, 2), (2, 3)]);
//! assert_eq!(people, vec![0, 1, 0, 0]);
//! ```
#![deny(missing_docs)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Person index of each element, numbered by each group's lowest element.
    fn labels(&mut self, n: usize) -> Vec<usize> {
        let mut label: BTreeMap<usize, usize> = BTreeMap::new();
        (0..n)
            .map(|i| {
                let root = self.find(i);
                let next = label.len();
                *label.entry(root).or_insert(next)
            })
            .collect()
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

/// Person index (0-based, ordered by each person's lowest record) of each of `n` records,
/// given links between record indices. Links to indices `>= n` are ignored.
pub fn connected_components(n: usize, links: &[(usize, usize)]) -> Vec<usize> {
    let mut uf = UnionFind::new(n);
    for &(a, b) in links {
        if a < n && b < n {
            uf.union(a, b);
        }
    }
    uf.labels(n)
}

/// Person index of each of `n` records, merging groups of records only when the links between
/// them are dense: links are taken strongest first (`(a, b, match probability)`), and the groups
/// holding `a` and `b` are merged only when at least `min_fraction` of the record pairs between
/// them are linked, and the merge would not put two records of an exclusive list (declared free of
/// duplicates: `exclusive[list_of[r]]`) into one person.
///
/// Connected components chain: one false link between two people makes them one. Here a lone
/// link between two groups of three records (1 of 9 pairs) is not enough; a fourth record linked
/// to two of three is. Ties are broken by record index, so results are deterministic.
///
/// ```
/// // 0-1-2 linked to each other, 3-4-5 too, and one weak bridge 2-3.
/// let links = [(0, 1, 0.99), (0, 2, 0.99), (1, 2, 0.99), (3, 4, 0.99), (3, 5, 0.99),
///              (4, 5, 0.99), (2, 3, 0.95)];
/// let people = recuento_cluster::no_chaining(6, &links, &[0; 6], &[false], 0.5);
/// assert_eq!(people, vec![0, 0, 0, 1, 1, 1]);
/// ```
pub fn no_chaining(
    n: usize,
    links: &[(usize, usize, f64)],
    list_of: &[usize],
    exclusive: &[bool],
    min_fraction: f64,
) -> Vec<usize> {
    let order = strongest_first(n, links);
    // Each record's linked records, as one array sliced by record (`adjacency[start[x]..
    // start[x + 1]]`), and each group's records as a ring (`next`), spliced in O(1) on a merge:
    // with a vector per record for each, a million records meant two million small
    // allocations, and freeing them took as long as the clustering (docs/benchmarks.md).
    let mut start = vec![0usize; n + 1];
    for &&(a, b, _) in &order {
        start[a + 1] += 1;
        start[b + 1] += 1;
    }
    for x in 0..n {
        start[x + 1] += start[x];
    }
    let mut fill = start.clone();
    let mut adjacency = vec![0usize; start[n]];
    for &&(a, b, _) in &order {
        adjacency[fill[a]] = b;
        fill[a] += 1;
        adjacency[fill[b]] = a;
        fill[b] += 1;
    }
    let mut uf = UnionFind::new(n);
    let mut next: Vec<usize> = (0..n).collect();
    let mut size = vec![1usize; n];
    let is_exclusive = |r: usize| on_exclusive_list(list_of, exclusive, r);
    for &&(a, b, _) in &order {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        let (small, large) = if size[ra] <= size[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        // Two records of a list free of duplicates can never be one person.
        let clash = ring(&next, small).any(|x| {
            is_exclusive(x) && ring(&next, large).any(|y| list_of.get(y) == list_of.get(x))
        });
        if clash {
            continue;
        }
        let mut linked = 0usize;
        for x in ring(&next, small) {
            for &y in &adjacency[start[x]..start[x + 1]] {
                if uf.find(y) == large {
                    linked += 1;
                }
            }
        }
        let possible = size[small] * size[large];
        if (linked as f64) < min_fraction * possible as f64 {
            continue;
        }
        uf.union(small, large);
        let root = uf.find(small);
        let other = if root == small { large } else { small };
        size[root] += size[other];
        // Two rings become one by exchanging one successor of each.
        next.swap(small, large);
    }
    uf.labels(n)
}

/// Whether record `r` is on a list declared free of duplicates.
fn on_exclusive_list(list_of: &[usize], exclusive: &[bool], r: usize) -> bool {
    list_of
        .get(r)
        .and_then(|l| exclusive.get(*l))
        .copied()
        .unwrap_or(false)
}

/// The records of the ring that `first` is on (`next` gives each record's successor).
fn ring(next: &[usize], first: usize) -> impl Iterator<Item = usize> + '_ {
    let mut x = Some(first);
    std::iter::from_fn(move || {
        let here = x?;
        x = Some(next[here]).filter(|&y| y != first);
        Some(here)
    })
}

/// The links between distinct records below `n`, strongest first, ties by record index.
fn strongest_first(n: usize, links: &[(usize, usize, f64)]) -> Vec<&(usize, usize, f64)> {
    let mut order: Vec<&(usize, usize, f64)> = links
        .iter()
        .filter(|l| l.0 < n && l.1 < n && l.0 != l.1)
        .collect();
    order.sort_by(|x, y| {
        y.2.total_cmp(&x.2)
            .then_with(|| (x.0.min(x.1), x.0.max(x.1)).cmp(&(y.0.min(y.1), y.0.max(y.1))))
    });
    order
}

/// [`no_chaining`] as it was first written, with a vector per record and per group: the
/// reference the faster form is tested against.
#[cfg(test)]
fn no_chaining_reference(
    n: usize,
    links: &[(usize, usize, f64)],
    list_of: &[usize],
    exclusive: &[bool],
    min_fraction: f64,
) -> Vec<usize> {
    let order = strongest_first(n, links);
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &&(a, b, _) in &order {
        adjacency[a].push(b);
        adjacency[b].push(a);
    }
    let mut uf = UnionFind::new(n);
    let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let is_exclusive = |r: usize| on_exclusive_list(list_of, exclusive, r);
    for &&(a, b, _) in &order {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        let (small, large) = if members[ra].len() <= members[rb].len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        // Two records of a list free of duplicates can never be one person.
        let clash = members[small].iter().any(|&x| {
            is_exclusive(x)
                && members[large]
                    .iter()
                    .any(|&y| list_of.get(y) == list_of.get(x))
        });
        if clash {
            continue;
        }
        let mut linked = 0usize;
        for &x in &members[small] {
            for &y in &adjacency[x] {
                if uf.find(y) == large {
                    linked += 1;
                }
            }
        }
        let possible = members[small].len() * members[large].len();
        if (linked as f64) < min_fraction * possible as f64 {
            continue;
        }
        uf.union(small, large);
        let root = uf.find(small);
        let other = if root == small { large } else { small };
        let moved = std::mem::take(&mut members[other]);
        members[root].extend(moved);
    }
    uf.labels(n)
}

/// How many connected components of the links hold more than one person in `people` (the
/// components the no-chaining method split at weak bridges).
pub fn split_components(n: usize, links: &[(usize, usize)], people: &[usize]) -> usize {
    let components = connected_components(n, links);
    let mut first: BTreeMap<usize, usize> = BTreeMap::new();
    let mut split = std::collections::BTreeSet::new();
    for (c, p) in components.iter().zip(people) {
        match first.get(c) {
            Some(q) if q != p => {
                split.insert(*c);
            }
            Some(_) => {}
            None => {
                first.insert(*c, *p);
            }
        }
    }
    split.len()
}

/// Summary of a clustering.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diagnostics {
    /// People found.
    pub persons: usize,
    /// Number of people with 1, 2, 3, ... records (index 0 = size 1; the last bucket is 10+).
    pub size_distribution: Vec<usize>,
    /// The largest clusters: (person index, records).
    pub largest: Vec<(usize, usize)>,
    /// People holding more than one record of a list declared free of duplicates, or more than
    /// `2 × lists` records: worth a look by a reviewer.
    pub flagged: Vec<(usize, String)>,
    /// The reasons of `flagged` in Spanish, one for each and in the same order, for the
    /// documentation teams who review (empty in a linkage.json written before them).
    #[serde(default)]
    pub flagged_es: Vec<String>,
}

impl Diagnostics {
    /// Puts `person` in the review queue, saying why in English and in Spanish.
    pub fn flag(&mut self, person: usize, reason: String, reason_es: String) {
        self.flagged.push((person, reason));
        self.flagged_es.push(reason_es);
    }
}

/// Diagnostics of a clustering. `list_of[i]` is the list index of record `i`; `no_duplicates[j]`
/// says list `j` holds each person at most once.
pub fn diagnose(
    person_of: &[usize],
    list_of: &[usize],
    list_names: &[String],
    no_duplicates: &[bool],
) -> Diagnostics {
    let persons = person_of.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); persons];
    for (r, &p) in person_of.iter().enumerate() {
        members[p].push(r);
    }
    let mut size_distribution = vec![0usize; 10];
    for m in &members {
        size_distribution[(m.len() - 1).min(9)] += 1;
    }
    let mut by_size: Vec<(usize, usize)> = members
        .iter()
        .enumerate()
        .map(|(p, m)| (p, m.len()))
        .collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by_size.truncate(5);
    let mut d = Diagnostics {
        persons,
        size_distribution,
        largest: by_size,
        flagged: Vec::new(),
        flagged_es: Vec::new(),
    };
    for (p, m) in members.iter().enumerate() {
        let mut per_list = vec![0usize; list_names.len()];
        for &r in m {
            if let Some(c) = per_list.get_mut(list_of[r]) {
                *c += 1;
            }
        }
        for (j, &c) in per_list.iter().enumerate() {
            if c > 1 && no_duplicates.get(j).copied().unwrap_or(false) {
                let list = &list_names[j];
                d.flag(
                    p,
                    format!("{c} records of list '{list}', which is declared free of duplicates"),
                    format!("{c} registros de la lista '{list}', que se declaró sin duplicados"),
                );
            }
        }
        if m.len() > 2 * list_names.len().max(1) {
            d.flag(
                p,
                format!("{} records: unusually many for one person", m.len()),
                format!("{} registros: demasiados para una sola persona", m.len()),
            );
        }
    }
    d
}

/// People whose records contradict each other, with the reason in words (for the review queue):
/// two different valid national IDs (two people never share a valid DUI, so two of them in one
/// person mean two people were merged, or a typo kept the check digit), or birth years more than
/// two years apart (more than a typo or a year derived from an age explains). `valid_ids[i]` is
/// record `i`'s national ID when it passes its check digit; `birth_years[i]` its birth year,
/// written or derived from an age. Each person is reported once per kind of contradiction, as
/// (person, reason, reason in Spanish).
pub fn contradictions<S: AsRef<str>>(
    person_of: &[usize],
    valid_ids: &[Option<S>],
    birth_years: &[Option<i32>],
) -> Vec<(usize, String, String)> {
    let persons = person_of.iter().max().map_or(0, |m| m + 1);
    let mut ids: Vec<std::collections::BTreeSet<&str>> = vec![Default::default(); persons];
    let mut years: Vec<(i32, i32)> = vec![(i32::MAX, i32::MIN); persons];
    for (r, &p) in person_of.iter().enumerate() {
        if let Some(Some(id)) = valid_ids.get(r) {
            ids[p].insert(id.as_ref());
        }
        if let Some(Some(y)) = birth_years.get(r) {
            years[p] = (years[p].0.min(*y), years[p].1.max(*y));
        }
    }
    let mut out = Vec::new();
    for p in 0..persons {
        if ids[p].len() > 1 {
            let list: Vec<&str> = ids[p].iter().copied().collect();
            let (why, why_es) = if list.len() == 2 && one_edit_apart(list[0], list[1]) {
                (
                    "one digit apart: a typo the check digit cannot catch, or two people merged",
                    "difieren en un dígito: una errata que el dígito verificador no detecta, o dos personas unidas",
                )
            } else {
                (
                    "two people may have been merged",
                    "puede que se hayan unido dos personas",
                )
            };
            let (n, joined) = (list.len(), list.join(", "));
            out.push((
                p,
                format!("{n} different valid national IDs ({joined}): {why}"),
                format!("{n} documentos de identidad válidos distintos ({joined}): {why_es}"),
            ));
        }
        let (lo, hi) = years[p];
        if lo != i32::MAX && hi - lo > 2 {
            out.push((
                p,
                format!("birth years {lo} and {hi} are {} years apart", hi - lo),
                format!("los años de nacimiento {lo} y {hi} distan {} años", hi - lo),
            ));
        }
    }
    out
}

/// Same length and one character different, or two neighbours swapped.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    match diff[..] {
        [_] => true,
        [i, j] => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradictions_are_named() {
        // Person 0: two valid DUIs; person 1: birth years 1980 and 1990; person 2: fine.
        let person_of = [0, 0, 1, 1, 2, 2];
        let ids = [
            Some("00016297-5".to_string()),
            Some("12345678-4".to_string()),
            None,
            None,
            Some("00016297-5".to_string()),
            Some("00016297-5".to_string()),
        ];
        let years = [
            Some(1980),
            Some(1981),
            Some(1980),
            Some(1990),
            Some(1970),
            None,
        ];
        let c = contradictions(&person_of, &ids, &years);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].0, 0);
        assert!(c[0].1.contains("00016297-5, 12345678-4"));
        assert!(c[0].1.contains("two people may have been merged"));
        assert!(c[0].2.contains("puede que se hayan unido dos personas"));
        assert!(c[1].2.contains("distan 10 años"));
        assert_eq!(c[1].0, 1);
        assert!(c[1].1.contains("10 years apart"));
        // Valid DUIs one digit apart (weight 5 times 5 or 9 ends in 5 either way): a typo the
        // check digit cannot catch is as likely as a merge, and the message says so.
        let near = [
            Some("43975711-7".to_string()),
            Some("43979711-7".to_string()),
        ];
        let c = contradictions(&[0, 0], &near, &[None, None]);
        assert!(
            c[0].1.contains("a typo the check digit cannot catch"),
            "{c:?}"
        );
    }

    #[test]
    fn components_chain_and_number_by_lowest_record() {
        assert_eq!(
            connected_components(5, &[(3, 4), (1, 3)]),
            vec![0, 1, 2, 1, 1]
        );
        assert_eq!(connected_components(3, &[]), vec![0, 1, 2]);
        assert_eq!(connected_components(2, &[(0, 7)]), vec![0, 1]);
    }

    #[test]
    fn diagnostics_flag_duplicates_in_clean_lists() {
        let person_of = connected_components(4, &[(0, 1), (1, 2)]);
        let d = diagnose(
            &person_of,
            &[0, 0, 1, 1],
            &["a".into(), "b".into()],
            &[true, false],
        );
        assert_eq!(d.persons, 2);
        assert_eq!(d.size_distribution[0], 1);
        assert_eq!(d.size_distribution[2], 1);
        assert_eq!(d.flagged.len(), 1);
        assert!(d.flagged[0].1.contains("'a'"));
        assert_eq!(
            d.flagged_es,
            ["2 registros de la lista 'a', que se declaró sin duplicados"]
        );
    }

    /// The clustering with a ring per group gives what the earlier one with a vector per group
    /// gave, on random links, lists and thresholds.
    #[test]
    fn no_chaining_is_the_reference_on_random_links() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..300 {
            let n = 2 + next(40) as usize;
            let lists = 1 + next(3) as usize;
            let list_of: Vec<usize> = (0..n).map(|_| next(lists as u64) as usize).collect();
            let exclusive: Vec<bool> = (0..lists).map(|_| next(3) == 0).collect();
            let links: Vec<(usize, usize, f64)> = (0..next(3 * n as u64))
                .map(|_| {
                    (
                        next(n as u64 + 1) as usize,
                        next(n as u64) as usize,
                        next(20) as f64 / 20.0,
                    )
                })
                .collect();
            let fraction = [0.0, 0.3, 0.5, 1.0][next(4) as usize];
            assert_eq!(
                no_chaining(n, &links, &list_of, &exclusive, fraction),
                no_chaining_reference(n, &links, &list_of, &exclusive, fraction),
                "{n} records, {links:?}"
            );
        }
    }

    #[test]
    fn no_chaining_keeps_exclusive_lists_apart_and_counts_splits() {
        // Records 0 and 1 are on list 0, declared free of duplicates; 2 is on list 1.
        let links = [(0, 2, 0.99), (1, 2, 0.98)];
        let people = no_chaining(3, &links, &[0, 0, 1], &[true, false], 0.5);
        assert_eq!(people, vec![0, 1, 0]);
        // Without the declaration the two are one person.
        assert_eq!(
            no_chaining(3, &links, &[0, 0, 1], &[false, false], 0.5),
            vec![0, 0, 0]
        );
        assert_eq!(split_components(3, &[(0, 2), (1, 2)], &people), 1);
    }
}
