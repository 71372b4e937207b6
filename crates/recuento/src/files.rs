//! `recuento link-files`: the generic linker on plain files, outside a project (FEBRL, any list
//! format), driven by a settings file. Writes `pairs.parquet`, `clusters.csv`, `model.json`,
//! `linkage.json` and `import_problems.csv` into an output folder, and, given the column that
//! holds the true person, measures blocking recall, precision, recall and F1.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use recuento_engine::Engine;
use recuento_model::spreadsheet::safe_cell;
use recuento_model::{ClusteringMethod, LinkSettings, LinkType};
use serde::{Deserialize, Serialize};

use crate::eval::Evaluation;

/// A trained model saved as JSON (`model.json`): the settings and the trained parameters, enough
/// to explain every score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    /// The settings the model was trained with.
    pub settings: LinkSettings,
    /// Level names of each comparison.
    pub levels: Vec<Vec<String>>,
    /// λ, m and u.
    pub model: recuento_fs::Model,
}

/// Reads settings from TOML, or from a saved `model.json`; for a model, also its trained λ, m and
/// u (`None` for settings files, TOML or JSON).
///
/// # Errors
/// Unreadable file, syntax errors with the line, invalid settings.
pub fn read_settings(path: &Path) -> Result<(LinkSettings, Option<recuento_fs::Model>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the settings file {}", path.display()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    if !is_json {
        let settings = LinkSettings::parse_toml(&text)
            .map_err(|e| anyhow::anyhow!(e.in_file(&path.display().to_string())))?;
        return Ok((settings, None));
    }
    let (mut settings, model) = match serde_json::from_str::<SavedModel>(&text) {
        Ok(saved) => (saved.settings, Some(saved.model)),
        Err(_) => (
            serde_json::from_str::<LinkSettings>(&text)
                .with_context(|| format!("{} is not a settings or model file", path.display()))?,
            None,
        ),
    };
    settings
        .complete_and_check()
        .map_err(|e| anyhow::anyhow!(e.in_file(&path.display().to_string())))?;
    Ok((settings, model))
}

/// Linkage quality against the truth column.
#[derive(Debug, Clone, Serialize)]
pub struct FilesEvaluation {
    /// Record pairs that are truly the same person (among pairs the link type allows).
    pub true_pairs: u64,
    /// True pairs among the candidate pairs (blocking recall = this / true_pairs).
    pub true_pairs_blocked: u64,
    /// Share of true pairs that blocking made candidates.
    pub blocking_recall: f64,
    /// Pairs at or above the threshold that are true.
    pub links_correct: u64,
    /// Link-level precision, recall and F1 (pairs above the threshold, before clustering).
    pub link_precision: f64,
    /// See `link_precision`.
    pub link_recall: f64,
    /// See `link_precision`.
    pub link_f1: f64,
    /// Pairwise quality of the people found (after clustering).
    pub clusters: Evaluation,
}

/// What `link-files` did.
#[derive(Debug, Clone, Serialize)]
pub struct FilesSummary {
    /// Records per list.
    pub lists: Vec<(String, usize)>,
    /// Rows read from the files.
    pub rows_read: usize,
    /// Problems reported (also in `import_problems.csv`).
    pub problems: usize,
    /// Records linked.
    pub records: usize,
    /// Blocking rules: (rule, pairs it generates, pairs it found first).
    pub blocking: Vec<(String, u64, u64)>,
    /// Distinct candidate pairs scored.
    pub candidate_pairs: u64,
    /// Pairs at or above the threshold.
    pub links: usize,
    /// People found.
    pub persons: usize,
    /// Connected components the clustering split at weak links.
    pub split_components: usize,
    /// Clusters by size: index 0 = one record; the last bucket is 10 or more.
    pub size_distribution: Vec<usize>,
    /// People whose records contradict each other, for review: (person id, reason). Read from
    /// the first `national_id` comparison and the first `date` comparison on a birth date (three
    /// columns, or a first column named like `birth`, `dob` or `nac…`).
    pub flagged: Vec<(String, String)>,
    /// The same people with the reason in Spanish, one for one.
    pub flagged_es: Vec<(String, String)>,
    /// EM iterations and convergence.
    pub em_iterations: usize,
    /// Whether EM met its tolerance.
    pub em_converged: bool,
    /// λ, the prior match probability of a random pair.
    pub lambda: f64,
    /// Where λ, m and u come from: trained on these files, or a saved model.
    pub model: String,
    /// Seconds per stage.
    pub seconds: Vec<(String, f64)>,
    /// Quality against the truth column, when one was named.
    pub evaluation: Option<FilesEvaluation>,
}

/// Contradictions inside people for settings that compare national IDs or birth dates.
async fn files_contradictions(
    engine: &Engine,
    settings: &LinkSettings,
    person_of: &[usize],
) -> Result<Vec<(usize, String, String)>> {
    use recuento_model::Method;
    let n = person_of.len();
    let id_column = settings
        .comparisons
        .iter()
        .find(|c| c.method == Method::NationalId)
        .map(|c| format!("{}__id", c.columns[0]));
    let birth_column = settings
        .comparisons
        .iter()
        .find(|c| {
            let first = c.columns[0].to_lowercase();
            c.method == Method::Date
                && (c.columns.len() == 3
                    || ["birth", "dob", "nac"].iter().any(|k| first.contains(k)))
        })
        .map(|c| format!("{}__date", c.columns[0]));
    if id_column.is_none() && birth_column.is_none() {
        return Ok(Vec::new());
    }
    // Read from the records in memory as Arrow text, borrowed, not copied into strings.
    let read = |column: Option<String>| async move {
        match column {
            Some(c) => engine.record_text_column(&c).await.map(Some),
            None => Ok(None),
        }
    };
    let ids = read(id_column).await?;
    let births = read(birth_column).await?;
    // A comparison the settings lack leaves every record without a value.
    fn values(a: &Option<recuento_engine::TextColumn>, n: usize) -> Vec<Option<&str>> {
        a.as_ref()
            .map_or_else(|| vec![None; n], |a| a.iter().collect())
    }
    Ok(crate::pipeline::contradictions(
        person_of,
        &values(&ids, n),
        &values(&births, n),
    ))
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Runs the generic linker on `files` and writes the outputs into `out`. With `frozen`, the pairs
/// are scored with that trained model instead of training one.
///
/// # Errors
/// Bad settings, unreadable files, a saved model that does not fit the settings, failures
/// writing outputs.
pub async fn link_files(
    engine: &Engine,
    settings: &LinkSettings,
    frozen: Option<recuento_fs::Model>,
    files: &[PathBuf],
    out: &Path,
    truth_column: Option<&str>,
) -> Result<FilesSummary> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let _previous = recuento_engine::PreviousOutputs::remove_in_background(out);
    let started = Instant::now();
    let mut input = engine.load_generic(settings, files, truth_column).await?;
    let model_source = if frozen.is_some() {
        "saved model (λ, m and u as trained before; not trained again)"
    } else {
        "trained on these files"
    };
    input.plan.frozen = frozen;
    let loaded = started.elapsed().as_secs_f64();
    let mut w = csv::Writer::from_path(out.join("import_problems.csv"))?;
    w.write_record([
        "file", "line", "column", "value", "imported", "problem", "problema",
    ])?;
    // The files' own values and names, which a hostile record could make a formula.
    for (file, p) in &input.problems {
        w.write_record([
            &*safe_cell(file),
            &p.line.to_string(),
            &*safe_cell(&p.column),
            &*safe_cell(&p.value),
            if p.imported { "yes" } else { "no" },
            &p.message,
            &p.message_es,
        ])?;
    }
    w.flush()?;

    let linked = engine.run_link(&input.plan, out).await?;
    let cluster_started = Instant::now();
    let n = linked.records.len();
    let links: Vec<(usize, usize, f64)> = linked
        .links
        .iter()
        .map(|&(a, b, p)| (a as usize, b as usize, p))
        .collect();
    let edges: Vec<(usize, usize)> = links.iter().map(|&(a, b, _)| (a, b)).collect();
    // Records carry the list name from the source column or the file; index them.
    let mut list_index: HashMap<&str, usize> = HashMap::new();
    let list_of: Vec<usize> = linked
        .records
        .iter()
        .map(|(l, _)| {
            let next = list_index.len();
            *list_index.entry(l).or_insert(next)
        })
        .collect();
    let mut exclusive = vec![false; list_index.len()];
    for (name, &i) in &list_index {
        exclusive[i] = settings.link_type == LinkType::LinkOnly
            || settings.no_duplicates.iter().any(|x| x == name);
    }
    let person_of = match settings.clustering {
        ClusteringMethod::ConnectedComponents => recuento_cluster::connected_components(n, &edges),
        ClusteringMethod::NoChaining => {
            recuento_cluster::no_chaining(n, &links, &list_of, &exclusive, 0.5)
        }
    };
    let split = recuento_cluster::split_components(n, &edges, &person_of);
    let persons = person_of.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; persons];
    for p in &person_of {
        sizes[*p] += 1;
    }
    let mut size_distribution = vec![0usize; 10];
    for s in sizes {
        size_distribution[s.clamp(1, 10) - 1] += 1;
    }
    let width = persons.to_string().len().max(5);
    let person_name = |p: usize| format!("P{:0width$}", p + 1);
    let (flagged, flagged_es): (Vec<_>, Vec<_>) =
        files_contradictions(engine, settings, &person_of)
            .await?
            .into_iter()
            .map(|(p, why, por_que)| ((person_name(p), why), (person_name(p), por_que)))
            .unzip();
    let clustered = cluster_started.elapsed().as_secs_f64();
    let mut w = csv::Writer::from_path(out.join("clusters.csv"))?;
    w.write_record(["list", "record_id", "person_id"])?;
    for ((list, id), p) in linked.records.iter().zip(&person_of) {
        w.write_record([
            &*safe_cell(list),
            &*safe_cell(id),
            &format!("P{:0width$}", p + 1),
        ])?;
    }
    w.flush()?;
    let saved = SavedModel {
        settings: settings.clone(),
        levels: linked.levels.clone(),
        model: linked.model.clone(),
    };
    std::fs::write(
        out.join("model.json"),
        serde_json::to_string_pretty(&saved)?,
    )?;

    let evaluation = match &input.truth {
        Some(truth) => {
            Some(evaluate_files(engine, out, settings, truth, &list_of, &linked, &person_of).await?)
        }
        None => None,
    };
    let mut seconds = vec![("read files".to_string(), loaded)];
    seconds.extend(linked.seconds.iter().cloned());
    seconds.push(("cluster".into(), clustered));
    let summary = FilesSummary {
        lists: input.per_list.clone(),
        rows_read: input.rows_read,
        problems: input.problems.len(),
        records: n,
        blocking: linked
            .blocking
            .iter()
            .zip(&linked.pairs_by_rule)
            .map(|(r, first)| (r.rule.clone(), r.pairs, *first))
            .collect(),
        candidate_pairs: linked.candidate_pairs,
        links: links.len(),
        persons,
        split_components: split,
        size_distribution,
        flagged,
        flagged_es,
        em_iterations: linked.model.iterations,
        em_converged: linked.model.converged,
        lambda: linked.model.lambda,
        model: model_source.into(),
        seconds,
        evaluation,
    };
    std::fs::write(
        out.join("linkage.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(summary)
}

async fn evaluate_files(
    engine: &Engine,
    out: &Path,
    settings: &LinkSettings,
    truth: &[Option<u32>],
    list_of: &[usize],
    linked: &recuento_engine::LinkOutput,
    person_of: &[usize],
) -> Result<FilesEvaluation> {
    let allowed = |a: usize, b: usize| {
        let same = list_of[a] == list_of[b];
        match settings.link_type {
            LinkType::DedupeOnly => true,
            LinkType::LinkOnly => !same,
            LinkType::LinkAndDedupe => {
                !(same
                    && settings
                        .no_duplicates
                        .iter()
                        .any(|x| x == linked.records.list(a)))
            }
        }
    };
    let same_person =
        |a: usize, b: usize| matches!((truth[a], truth[b]), (Some(x), Some(y)) if x == y);
    // True pairs the link type allows: records grouped by true person by sorting (true person,
    // record) pairs, which needs no map of a vector per person.
    let mut by_person: Vec<(u32, u32)> = truth
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (t, i as u32)))
        .collect();
    by_person.sort_unstable();
    let mut true_pairs = 0u64;
    for g in by_person.chunk_by(|a, b| a.0 == b.0) {
        for (x, &(_, a)) in g.iter().enumerate() {
            for &(_, b) in &g[x + 1..] {
                if allowed(a as usize, b as usize) {
                    true_pairs += 1;
                }
            }
        }
    }
    drop(by_person);
    let mut blocked = 0u64;
    engine
        .scan_pairs(&out.join("pairs.parquet"), |l, r, _| {
            if same_person(l as usize, r as usize) {
                blocked += 1;
            }
        })
        .await?;
    let correct = linked
        .links
        .iter()
        .filter(|&&(a, b, _)| same_person(a as usize, b as usize))
        .count() as u64;
    let precision = correct as f64 / (linked.links.len() as f64).max(1.0);
    let recall = correct as f64 / (true_pairs as f64).max(1.0);
    // Both assignments are by record number: records without a truth value are people of their
    // own.
    let common: Vec<(usize, (Option<u32>, usize))> = (0..truth.len().min(person_of.len()))
        .map(|i| {
            let t = match truth[i] {
                Some(t) => (Some(t), 0),
                None => (None, i),
            };
            (person_of[i], t)
        })
        .collect();
    let unmatched = truth.len().max(person_of.len()) - common.len();
    Ok(FilesEvaluation {
        true_pairs,
        true_pairs_blocked: blocked,
        blocking_recall: blocked as f64 / (true_pairs as f64).max(1.0),
        links_correct: correct,
        link_precision: precision,
        link_recall: recall,
        link_f1: f1(precision, recall),
        clusters: crate::eval::evaluate_aligned(&common, unmatched),
    })
}
