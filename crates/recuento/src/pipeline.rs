//! The stages of a project run: import, link, estimate, report. Each reads the previous stage's
//! outputs from `out/`, so they can run one at a time (`recuento link`) or together
//! (`recuento run`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use recuento_engine::Engine;
use recuento_engine::ingest::{self, RawList};
use recuento_model::spreadsheet::safe_cell;
use recuento_model::{CaptureHistories, ListSpec, ProjectConfig};
use recuento_mse::Estimate;
use recuento_store::{Snapshot, Store};
use serde::{Deserialize, Serialize};

/// A project folder with its parsed `recuento.toml`.
pub struct Project {
    /// The folder.
    pub dir: PathBuf,
    /// The parsed settings.
    pub config: ProjectConfig,
    /// BLAKE3 of the `recuento.toml` bytes.
    pub config_hash: String,
}

impl Project {
    /// Opens `dir/recuento.toml`.
    ///
    /// # Errors
    /// A missing or invalid `recuento.toml`.
    pub fn open(dir: &Path) -> Result<Project> {
        let path = dir.join("recuento.toml");
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            anyhow!(
                "cannot read {shown} ({e}): is this a recuento project? (`recuento init DIR` creates one)\n\
                 En español: no se puede leer {shown}: ¿es una carpeta de proyecto de recuento? (`recuento init CARPETA` crea una)"
            )
        })?;
        let text = match std::str::from_utf8(&bytes) {
            // Notepad on Windows may save UTF-8 with a byte-order mark, which TOML does not allow.
            Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
            Err(e) => {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1;
                bail!(
                    "{shown}, line {line}: the file is not saved as UTF-8 text (an accented letter or ñ in another encoding?); save it as UTF-8 in the editor\n\
                     En español: {shown}, línea {line}: el archivo no está guardado como texto UTF-8 (¿una tilde o una ñ en otra codificación?); guárdelo como UTF-8 en el editor"
                );
            }
        };
        let config = ProjectConfig::from_toml(text).map_err(|e| anyhow!(e.in_file(&shown)))?;
        if config.lists.is_empty() {
            bail!(
                "{shown} has no [[lists]]: add at least one list\n\
                 En español: {shown} no tiene ninguna [[lists]]: añada al menos una lista"
            );
        }
        if config.lists.len() > 16 {
            let n = config.lists.len();
            bail!(
                "{shown} has {n} lists; recuento handles at most 16\n\
                 En español: {shown} tiene {n} listas; recuento admite 16 como máximo"
            );
        }
        Ok(Project {
            dir: dir.to_path_buf(),
            config,
            config_hash: blake3::hash(&bytes).to_hex().to_string(),
        })
    }

    /// `dir/out`, created if needed.
    pub fn out(&self) -> Result<PathBuf> {
        let out = self.dir.join("out");
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        Ok(out)
    }

    fn store(&self) -> Result<Store> {
        Ok(Store::open(&self.dir.join("recuento.sqlite"))?)
    }

    fn list_names(&self) -> Vec<String> {
        self.config.lists.iter().map(|l| l.name.clone()).collect()
    }
}

/// What import found in one list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListImport {
    /// List name.
    pub name: String,
    /// File.
    pub file: String,
    /// BLAKE3 of the file (the snapshot).
    pub hash: String,
    /// Encoding.
    pub encoding: String,
    /// Data rows in the file.
    pub rows_read: usize,
    /// Rows imported.
    pub rows_imported: usize,
    /// Rows not imported (each is in the import report).
    pub rows_not_imported: usize,
    /// Problems reported (rows imported with a flag, and rows not imported).
    pub problems: usize,
}

/// Fails with "run `recuento STAGE` first" when an earlier stage's output is missing.
fn require(path: &Path, stage: &str) -> Result<()> {
    if !path.exists() {
        bail!(
            "{} does not exist yet: run `recuento {stage}` first",
            path.display()
        );
    }
    Ok(())
}

/// Imports every list: snapshots into the store, `out/import_report.csv`, standardised
/// `out/records.parquet`.
///
/// # Errors
/// A list that cannot be read at all, a bad column mapping, store or write failures.
pub async fn import(project: &Project, engine: &Engine) -> Result<Vec<ListImport>> {
    let out = project.out()?;
    let mut store = project.store()?;
    let mut loaded: Vec<(ListSpec, RawList)> = Vec::new();
    let mut report = csv::Writer::from_path(out.join("import_report.csv"))?;
    // Messages in English with the Spanish beside them: documentation teams read this report.
    report.write_record([
        "list", "file", "line", "column", "value", "problem", "problema", "imported",
    ])?;
    let mut summary = Vec::new();
    for spec in &project.config.lists {
        let raw = ingest::read_list(spec, &project.dir)?;
        let problems: Vec<_> = raw
            .problems
            .iter()
            .map(|p| {
                (
                    p.line,
                    p.column.as_str(),
                    p.value.as_str(),
                    p.message.as_str(),
                    p.imported,
                )
            })
            .collect();
        store.upsert_list(
            &spec.name,
            &spec.file,
            &spec.organisation,
            &spec.collection,
            &spec.period,
        )?;
        store.add_snapshot(
            &Snapshot {
                list: &spec.name,
                file: &spec.file,
                hash: &raw.hash,
                bytes: &raw.bytes,
                encoding: &raw.encoding,
                rows_read: raw.rows_read,
                rows_imported: raw.rows.len(),
            },
            &problems,
        )?;
        // The list's own values and names, which a hostile record could make a formula.
        for p in &raw.problems {
            report.write_record([
                &*safe_cell(&spec.name),
                &*safe_cell(&spec.file),
                &p.line.to_string(),
                &*safe_cell(&p.column),
                &*safe_cell(&p.value),
                &p.message,
                &p.message_es,
                if p.imported { "yes" } else { "no" },
            ])?;
        }
        summary.push(ListImport {
            name: spec.name.clone(),
            file: spec.file.clone(),
            hash: raw.hash.clone(),
            encoding: raw.encoding.clone(),
            rows_read: raw.rows_read,
            rows_imported: raw.rows.len(),
            rows_not_imported: raw.rows_not_imported(),
            problems: raw.problems.len(),
        });
        store.audit(
            "cli",
            "import",
            &format!("{} {} {}", spec.name, spec.file, raw.hash),
        )?;
        loaded.push((spec.clone(), raw));
    }
    report.flush()?;
    engine.load_records(&loaded, &out).await?;
    write_json(&out.join("import_summary.json"), &summary)?;
    Ok(summary)
}

/// What linkage produced, as written to `out/linkage.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkSummary {
    /// Records linked.
    pub records: usize,
    /// Candidate pairs scored.
    pub candidate_pairs: u64,
    /// Random pairs used for u.
    pub u_pairs: u64,
    /// Pairs at or above the threshold.
    pub links: usize,
    /// People found.
    pub persons: usize,
    /// The threshold.
    pub threshold: f64,
    /// Blocking rules and the pairs each generates.
    pub blocking: Vec<(String, u64)>,
    /// The trained model.
    pub model: recuento_fs::Model,
    /// Comparison names.
    pub comparisons: Vec<String>,
    /// Level names per comparison (index = level + 1).
    pub levels: Vec<Vec<String>>,
    /// Cluster diagnostics.
    pub diagnostics: recuento_cluster::Diagnostics,
    /// Distinct people per list, in configuration order.
    pub persons_per_list: Vec<(String, usize)>,
}

async fn ensure_records(project: &Project, engine: &Engine) -> Result<()> {
    if engine.context().table_exist("records")? {
        return Ok(());
    }
    let path = project.dir.join("out").join("records.parquet");
    require(&path, "import")?;
    engine
        .context()
        .register_parquet("records", &*path.to_string_lossy(), Default::default())
        .await?;
    Ok(())
}

/// Links the imported records: `out/pairs.parquet`, `out/persons.csv`, `out/linkage.json`.
///
/// # Errors
/// No imported records, bad blocking rules, write failures.
pub async fn link(project: &Project, engine: &Engine) -> Result<LinkSummary> {
    let out = project.out()?;
    let _previous = recuento_engine::PreviousOutputs::remove_in_background(&out);
    ensure_records(project, engine).await?;
    let lists = project.list_names();
    let exclude: Vec<String> = project
        .config
        .lists
        .iter()
        .filter(|l| l.no_duplicates)
        .map(|l| l.name.clone())
        .collect();
    let linked = engine
        .link(
            &project.config.linkage,
            project.config.project.seed,
            &exclude,
            &out,
        )
        .await?;
    let n = linked.records.len();
    // rids are 0..n in record order.
    let edges: Vec<(usize, usize)> = linked
        .links
        .iter()
        .map(|&(a, b, _)| (a as usize, b as usize))
        .collect();
    let person_of = recuento_cluster::connected_components(n, &edges);
    let list_of: Vec<usize> = linked
        .records
        .iter()
        .map(|(l, _)| lists.iter().position(|x| x == l).unwrap_or(0))
        .collect();
    let no_dup: Vec<bool> = project
        .config
        .lists
        .iter()
        .map(|l| l.no_duplicates)
        .collect();
    let mut diagnostics = recuento_cluster::diagnose(&person_of, &list_of, &lists, &no_dup);
    // Contradictions inside people (two valid DUIs, birth years far apart) go to review too.
    let ids = engine.record_text_column("national_id").await?;
    let births = engine.record_text_column("birth_date").await?;
    for (p, why, why_es) in contradictions(
        &person_of,
        &ids.iter().collect::<Vec<_>>(),
        &births.iter().collect::<Vec<_>>(),
    ) {
        diagnostics.flag(p, why, why_es);
    }
    let width = diagnostics.persons.to_string().len().max(5);
    let mut w = csv::Writer::from_path(out.join("persons.csv"))?;
    w.write_record(["list", "record_id", "person_id"])?;
    for ((list, id), p) in linked.records.iter().zip(&person_of) {
        w.write_record([
            &*safe_cell(list),
            &*safe_cell(id),
            &format!("P{:0width$}", p + 1),
        ])?;
    }
    w.flush()?;
    let persons_per_list = lists
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let mut ps: Vec<usize> = person_of
                .iter()
                .zip(&list_of)
                .filter(|(_, l)| **l == j)
                .map(|(p, _)| *p)
                .collect();
            ps.sort_unstable();
            ps.dedup();
            (name.clone(), ps.len())
        })
        .collect();
    let summary = LinkSummary {
        records: n,
        candidate_pairs: linked.candidate_pairs,
        u_pairs: linked.u_pairs,
        links: linked.links.len(),
        persons: diagnostics.persons,
        threshold: project.config.linkage.threshold,
        blocking: linked
            .blocking
            .iter()
            .map(|r| (r.rule.clone(), r.pairs))
            .collect(),
        model: linked.model,
        comparisons: linked.comparisons,
        levels: recuento_engine::COMPARISONS
            .iter()
            .map(|c| c.levels.iter().map(|s| s.to_string()).collect())
            .collect(),
        diagnostics,
        persons_per_list,
    };
    write_json(&out.join("linkage.json"), &summary)?;
    project.store()?.audit(
        "cli",
        "link",
        &format!("{} records, {} people", n, summary.persons),
    )?;
    Ok(summary)
}

/// Estimates the total from the linked people: `out/capture_histories.csv`, `out/estimate.json`.
///
/// # Errors
/// No `persons.csv`, write failures.
pub async fn estimate(project: &Project, engine: &Engine) -> Result<Vec<Estimate>> {
    let out = project.out()?;
    let persons_path = out.join("persons.csv");
    require(&persons_path, "link")?;
    let assignment = crate::eval::read_assignment(&persons_path)?;
    let lists = project.list_names();
    let strata = project.config.estimation.strata.clone();
    let mut stratum_values: Vec<BTreeMap<(String, String), String>> = Vec::new();
    if !strata.is_empty() {
        ensure_records(project, engine).await?;
        let index = engine.records_index().await?;
        for s in &strata {
            let by_rid = engine.record_values(s).await?;
            stratum_values.push(
                index
                    .iter()
                    .filter_map(|(rid, l, r)| {
                        by_rid.get(rid).map(|v| ((l.clone(), r.clone()), v.clone()))
                    })
                    .collect(),
            );
        }
    }
    let mut person_ids: BTreeMap<&String, usize> = BTreeMap::new();
    let mut person_of = Vec::new();
    let mut list_of = Vec::new();
    let mut stratum_of = Vec::new();
    for (key, pid) in &assignment {
        let next = person_ids.len();
        person_of.push(*person_ids.entry(pid).or_insert(next));
        list_of.push(lists.iter().position(|l| *l == key.0).with_context(|| {
            format!(
                "{} names list '{}', which recuento.toml does not have",
                persons_path.display(),
                key.0
            )
        })?);
        stratum_of.push(stratum_values.iter().map(|m| m.get(key).cloned()).collect());
    }
    let histories =
        crate::histories::from_people(&lists, &strata, &person_of, &list_of, &stratum_of);
    crate::histories::write_csv(&histories, &out.join("capture_histories.csv"))?;
    let estimates = estimate_histories(project, &histories);
    write_json(&out.join("estimate.json"), &estimates)?;
    project.store()?.audit(
        "cli",
        "estimate",
        &format!("{} people observed", histories.observed()),
    )?;
    Ok(estimates)
}

/// Leave-one-list-out sensitivity from `out/capture_histories.csv`, and the latent-class
/// model's prior sensitivity when it is on, against `estimates` (what [`estimate`] returned):
/// writes and returns `out/sensitivity.json`.
///
/// # Errors
/// No capture histories yet (run `recuento estimate`), write failures.
pub fn sensitivity(project: &Project, estimates: &[Estimate]) -> Result<Vec<Estimate>> {
    let out = project.out()?;
    let path = out.join("capture_histories.csv");
    require(&path, "estimate")?;
    let histories = crate::histories::read_csv(&path, &project.config.estimation.strata)?;
    let options = options(&project.config);
    let mut runs = recuento_mse::leave_one_list_out(&histories, &options);
    runs.extend(recuento_mse::prior_sensitivity(
        &histories, &options, estimates,
    ));
    write_json(&out.join("sensitivity.json"), &runs)?;
    Ok(runs)
}

/// The total under one alternative linkage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkageAlternative {
    /// Match-probability threshold used to link pairs.
    pub threshold: f64,
    /// Pairs linked at that threshold.
    pub links: usize,
    /// People found.
    pub persons: usize,
    /// The headline estimate (model-averaged log-linear) for all strata together.
    pub estimate: Estimate,
}

/// Thresholds tried by [`linkage_sensitivity`] besides the project's own.
pub const ALTERNATIVE_THRESHOLDS: [f64; 6] = [0.5, 0.7, 0.8, 0.9, 0.95, 0.99];

/// Linkage uncertainty: re-clusters the scored pairs of `out/pairs.parquet` at several
/// match-probability thresholds and re-estimates the total from each alternative linkage, so the
/// report can say how far the total moves with the linkage. Writes
/// `out/linkage_sensitivity.json`.
///
/// # Errors
/// Write failures.
pub fn linkage_sensitivity(
    project: &Project,
    relink: &Relinker,
) -> Result<Vec<LinkageAlternative>> {
    let mut alternatives = Vec::new();
    for threshold in relink.thresholds.iter().copied() {
        let edges = relink.links_from(threshold);
        let Some((persons, estimate)) = relink.estimate(&edges) else {
            continue;
        };
        alternatives.push(LinkageAlternative {
            threshold,
            links: edges.len(),
            persons,
            estimate,
        });
    }
    write_json(
        &project.out()?.join("linkage_sensitivity.json"),
        &alternatives,
    )?;
    Ok(alternatives)
}

/// What re-estimating from other linkages of the same scored pairs needs, read once for the
/// thresholds of [`linkage_sensitivity`] and the draws of [`linkage_draws`]: the scored pairs
/// any of them can link, the records' lists, and the estimation options.
pub struct Relinker {
    /// Scored pairs (rids and match probability) at or above the lowest probability any
    /// threshold or draw links, ordered by rids as [`Engine::pairs_above`] orders them.
    candidates: Vec<(i64, i64, f64)>,
    /// [`ALTERNATIVE_THRESHOLDS`] and the project's own, in increasing order.
    thresholds: Vec<f64>,
    /// Records, whose rids are 0..records.
    records: usize,
    lists: Vec<String>,
    /// The list of each record, as an index into `lists`.
    list_of: Vec<usize>,
    options: recuento_mse::Options,
}

impl Relinker {
    /// Reads the scored pairs and the records' lists.
    ///
    /// # Errors
    /// No linkage yet (run `recuento link`), unreadable outputs.
    pub async fn new(project: &Project, engine: &Engine) -> Result<Relinker> {
        let pairs = project.out()?.join("pairs.parquet");
        require(&pairs, "link")?;
        ensure_records(project, engine).await?;
        let index = engine.records_index().await?;
        let lists = project.list_names();
        let list_of: Vec<usize> = index
            .iter()
            .map(|(_, l, _)| lists.iter().position(|x| x == l).unwrap_or(0))
            .collect();
        let mut thresholds: Vec<f64> = ALTERNATIVE_THRESHOLDS.to_vec();
        thresholds.push(project.config.linkage.threshold);
        thresholds.sort_by(f64::total_cmp);
        thresholds.dedup();
        let floor = thresholds[0].min(DRAW_FLOOR);
        Ok(Relinker {
            candidates: engine.pairs_above(&pairs, floor).await?,
            thresholds,
            records: index.len(),
            lists,
            list_of,
            // Only the headline (the log-linear average) is read from these runs: the sampler,
            // the average over graphs and a chosen model are left out, which keeps the runs to
            // seconds (six lists' graphs alone take 0.4 s a run).
            options: recuento_mse::Options {
                lcmcr: None,
                dga: None,
                model: None,
                ..options(&project.config)
            },
        })
    }

    /// The links of every pair at or above `threshold`.
    fn links_from(&self, threshold: f64) -> Vec<(usize, usize)> {
        self.candidates
            .iter()
            .filter(|&&(_, _, p)| p >= threshold)
            .map(|&(a, b, _)| (a as usize, b as usize))
            .collect()
    }

    /// People (the connected components of `links`, as in `recuento link`) and the headline
    /// estimate for all strata together; `None` when no estimate comes out.
    fn estimate(&self, links: &[(usize, usize)]) -> Option<(usize, Estimate)> {
        let person_of = recuento_cluster::connected_components(self.records, links);
        let histories =
            crate::histories::from_people(&self.lists, &[], &person_of, &self.list_of, &[]);
        let estimate = recuento_mse::estimate(&histories, &self.options)
            .into_iter()
            .next()?;
        Some((person_of.iter().max().map_or(0, |m| m + 1), estimate))
    }
}

/// The total under one linkage drawn at random from the match probabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkageDraw {
    /// Draw number, from 1.
    pub draw: usize,
    /// Pairs linked in this draw.
    pub links: usize,
    /// People found.
    pub persons: usize,
    /// The headline estimate (model-averaged log-linear) for all strata together.
    pub estimate: Estimate,
}

/// Linkages drawn by [`linkage_draws`].
pub const LINKAGE_DRAWS: usize = 20;

/// Pairs below this match probability are never linked in a draw: they are most of the scored
/// pairs, and together they would add a handful of links at random, each joining two strangers.
pub const DRAW_FLOOR: f64 = 0.01;

/// Linkage uncertainty carried to the total: [`LINKAGE_DRAWS`] linkages drawn at random, each
/// scored pair at or above [`DRAW_FLOOR`] linked with its match probability, independently of the
/// others; people are the connected components, as in `recuento link`; the total is re-estimated
/// from each. Seeded by the project's seed, so the draws are the same on every run. Writes
/// `out/linkage_draws.json`.
///
/// # Errors
/// Write failures.
pub fn linkage_draws(project: &Project, relink: &Relinker) -> Result<Vec<LinkageDraw>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(project.config.project.seed);
    let mut draws = Vec::new();
    for draw in 1..=LINKAGE_DRAWS {
        let edges: Vec<(usize, usize)> = relink
            .candidates
            .iter()
            .filter(|&&(_, _, p)| p >= DRAW_FLOOR && rng.random::<f64>() < p)
            .map(|&(a, b, _)| (a as usize, b as usize))
            .collect();
        let Some((persons, estimate)) = relink.estimate(&edges) else {
            continue;
        };
        draws.push(LinkageDraw {
            draw,
            links: edges.len(),
            persons,
            estimate,
        });
    }
    write_json(&project.out()?.join("linkage_draws.json"), &draws)?;
    Ok(draws)
}

/// People whose records contradict each other ([`recuento_cluster::contradictions`]), from each
/// record's standardised (canonical) national ID — only DUIs that pass their check digit count —
/// and birth date (its year).
pub fn contradictions<S: AsRef<str>>(
    person_of: &[usize],
    national_ids: &[Option<S>],
    birth_dates: &[Option<S>],
) -> Vec<(usize, String, String)> {
    let valid_ids: Vec<Option<&str>> = national_ids
        .iter()
        .map(|id| {
            id.as_ref()
                .map(AsRef::as_ref)
                .filter(|id| recuento_text::ids::canonical_dui_valid(id) == Some(true))
        })
        .collect();
    let birth_years: Vec<Option<i32>> = birth_dates
        .iter()
        .map(|b| b.as_ref().and_then(|b| b.as_ref().get(..4)?.parse().ok()))
        .collect();
    recuento_cluster::contradictions(person_of, &valid_ids, &birth_years)
}

/// Runs the estimators with the project's settings.
pub fn estimate_histories(project: &Project, histories: &CaptureHistories) -> Vec<Estimate> {
    recuento_mse::estimate(histories, &options(&project.config))
}

/// The latent-class sampler's options: the user's settings over the sampler's defaults.
pub fn lcmcr_options(
    settings: &recuento_model::SamplerSettings,
    seed: u64,
) -> recuento_mse::lcmcr::LcmcrOptions {
    let default = recuento_mse::lcmcr::LcmcrOptions::default();
    recuento_mse::lcmcr::LcmcrOptions {
        seed,
        samples: settings.sweeps.unwrap_or(default.samples),
        classes: settings.classes.unwrap_or(default.classes),
        chains: settings.chains.unwrap_or(default.chains),
        burn_in: settings.burn_in.unwrap_or(default.burn_in),
        ..default
    }
}

/// Estimation options from settings.
pub fn options(config: &ProjectConfig) -> recuento_mse::Options {
    recuento_mse::Options {
        max_order: config.estimation.max_order,
        criterion: config.estimation.criterion.clone(),
        lcmcr: config
            .estimation
            .lcmcr
            .then(|| lcmcr_options(&config.estimation.sampler(), config.project.seed)),
        min_list_count: config.estimation.min_list_count,
        dga: config
            .estimation
            .dga
            .then_some(recuento_mse::dga::DgaOptions {
                delta: config.estimation.dga_delta,
                seed: config.project.seed,
            }),
        model: config.estimation.model.clone(),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, stage: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{} does not exist yet: run `recuento {stage}` first",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is damaged; run `recuento {stage}` again",
            path.display()
        )
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

fn file_hash(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| blake3::hash(&b).to_hex().to_string())
        .unwrap_or_else(|_| "missing".into())
}

/// Writes `out/manifest.json` and `out/report.html`; returns the report's path.
///
/// # Errors
/// Missing outputs of earlier stages, write failures.
pub fn report(project: &Project) -> Result<PathBuf> {
    let out = project.out()?;
    let imports: Vec<ListImport> = read_json(&out.join("import_summary.json"), "import")?;
    let linkage: LinkSummary = read_json(&out.join("linkage.json"), "link")?;
    let estimates: Vec<Estimate> = read_json(&out.join("estimate.json"), "estimate")?;
    let histories = crate::histories::read_csv(
        &out.join("capture_histories.csv"),
        &project.config.estimation.strata,
    )?;
    let linkage_alternatives: Vec<LinkageAlternative> =
        if out.join("linkage_sensitivity.json").exists() {
            read_json(
                &out.join("linkage_sensitivity.json"),
                "estimate --linkage-sensitivity",
            )?
        } else {
            Vec::new()
        };
    let linkage_draws: Vec<LinkageDraw> = if out.join("linkage_draws.json").exists() {
        read_json(
            &out.join("linkage_draws.json"),
            "estimate --linkage-sensitivity",
        )?
    } else {
        Vec::new()
    };
    // Sensitivity runs are optional (`recuento estimate --sensitivity`).
    let sensitivity: Vec<Estimate> = if out.join("sensitivity.json").exists() {
        read_json(&out.join("sensitivity.json"), "estimate --sensitivity")?
    } else {
        Vec::new()
    };
    let manifest = serde_json::json!({
        "software": format!("recuento {}", crate::VERSION),
        "project": project.config.project.name,
        "seed": project.config.project.seed,
        "config_blake3": project.config_hash,
        "settings": project.config,
        "inputs": imports.iter().map(|l| serde_json::json!({
            "list": l.name, "file": l.file, "blake3": l.hash, "encoding": l.encoding,
            "rows_read": l.rows_read, "rows_imported": l.rows_imported, "rows_not_imported": l.rows_not_imported,
        })).collect::<Vec<_>>(),
        "review_log": "no review decisions: every link is the model's",
        "outputs": {
            "persons.csv": file_hash(&out.join("persons.csv")),
            "estimate.json": file_hash(&out.join("estimate.json")),
            "capture_histories.csv": file_hash(&out.join("capture_histories.csv")),
        },
    });
    let manifest_text = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(out.join("manifest.json"), manifest_text.clone() + "\n")?;
    let mut parameters = Vec::new();
    for (k, name) in linkage.comparisons.iter().enumerate() {
        for (l, (m, u)) in linkage.model.m[k]
            .iter()
            .zip(&linkage.model.u[k])
            .enumerate()
        {
            parameters.push(recuento_report::LevelParams {
                comparison: name.clone(),
                level: linkage.levels[k].get(l + 1).cloned().unwrap_or_default(),
                m: *m,
                u: *u,
            });
        }
    }
    let data = recuento_report::ReportData {
        project: project.config.project.name.clone(),
        version: crate::VERSION.into(),
        lists: project
            .config
            .lists
            .iter()
            .zip(&imports)
            .map(|(spec, imp)| recuento_report::ListInfo {
                name: spec.name.clone(),
                organisation: spec.organisation.clone(),
                collection: spec.collection.clone(),
                period: spec.period.clone(),
                file: spec.file.clone(),
                hash: imp.hash.clone(),
                encoding: imp.encoding.clone(),
                rows_read: imp.rows_read,
                rows_imported: imp.rows_imported,
                problems: imp.problems,
                persons: linkage
                    .persons_per_list
                    .iter()
                    .find(|(n, _)| *n == spec.name)
                    .map_or(0, |p| p.1),
            })
            .collect(),
        histories,
        records: linkage.records,
        candidate_pairs: linkage.candidate_pairs,
        links: linkage.links,
        persons: linkage.persons,
        threshold: linkage.threshold,
        blocking: linkage.blocking.clone(),
        lambda: linkage.model.lambda,
        em: (linkage.model.iterations, linkage.model.converged),
        parameters,
        cluster_sizes: linkage.diagnostics.size_distribution.clone(),
        flagged: linkage
            .diagnostics
            .flagged
            .iter()
            .map(|(p, why)| format!("person {}: {why}", p + 1))
            .collect(),
        flagged_es: linkage
            .diagnostics
            .flagged
            .iter()
            .zip(&linkage.diagnostics.flagged_es)
            .map(|((p, _), why)| format!("persona {}: {why}", p + 1))
            .collect(),
        estimates,
        sensitivity,
        linkage_alternatives: linkage_alternatives
            .iter()
            .map(|a| (a.threshold, a.links, a.persons, a.estimate.clone()))
            .collect(),
        linkage_draws: linkage_draws
            .iter()
            .map(|d| (d.links, d.persons, d.estimate.clone()))
            .collect(),
        manifest: manifest_text,
    };
    let path = out.join("report.html");
    std::fs::write(&path, recuento_report::render(&data))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Everything a full run produced, for printing.
pub struct RunOutcome {
    /// Per-list import results.
    pub imports: Vec<ListImport>,
    /// Linkage summary.
    pub linkage: LinkSummary,
    /// Estimates.
    pub estimates: Vec<Estimate>,
    /// The report.
    pub report: PathBuf,
}

/// import -> link -> estimate -> report.
///
/// # Errors
/// As each stage.
pub async fn run(project: &Project) -> Result<RunOutcome> {
    let engine = Engine::new();
    let imports = import(project, &engine).await?;
    let linkage = link(project, &engine).await?;
    let estimates = estimate(project, &engine).await?;
    let report = report(project)?;
    project.store()?.add_run(
        "run",
        crate::VERSION,
        &project.config_hash,
        project.config.project.seed,
        &serde_json::to_string(
            &serde_json::json!({"persons": linkage.persons, "records": linkage.records}),
        )?,
    )?;
    Ok(RunOutcome {
        imports,
        linkage,
        estimates,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_duis_and_birth_years_count_as_contradictions() {
        // Person 0: a valid DUI and a mistyped one (fails its check digit): a typo, not a
        // contradiction. Person 1: two valid DUIs. Person 2: birth dates 1980 and 1995.
        let person_of = [0, 0, 1, 1, 2, 2];
        let some = |s: &str| Some(s.to_string());
        let ids = [
            some("00016297-5"),
            some("00016297-4"),
            some("00016297-5"),
            some("12345678-4"),
            None,
            some("V12345678"),
        ];
        let births = [None, None, None, None, some("1980-04-03"), some("1995")];
        let c = contradictions(&person_of, &ids, &births);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].0, 1);
        assert!(c[0].1.contains("00016297-5, 12345678-4"));
        assert_eq!(c[1].0, 2);
        assert!(c[1].1.contains("15 years apart"));
        assert!(c[1].2.contains("distan 15 años"));
    }
}
