//! The `recuento` command: a thin CLI over [`recuento::pipeline`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use recuento::mse::people as n;
use recuento::pipeline::{self, Project};
use recuento_engine::Engine;

const ABOUT: &str = "Link partial lists of victims into people and estimate how many there are, including those on no list.\n\
Vincula listas parciales de víctimas en personas y estima cuántas hay en total, incluidas las que no figuran en ninguna lista.";

#[derive(Parser)]
#[command(name = "recuento", version, about = ABOUT, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ProjectArg {
    /// Project folder (holding recuento.toml) / carpeta del proyecto.
    #[arg(long, short = 'p', default_value = ".")]
    project: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a project folder with a commented recuento.toml / crear un proyecto.
    Init {
        /// Folder to create.
        dir: PathBuf,
    },
    /// Read every list, store snapshots, report problems row by row / importar las listas.
    Import(ProjectArg),
    /// Link records into people: out/pairs.parquet, out/persons.csv / vincular registros.
    Link(ProjectArg),
    /// Estimate the total: out/estimate.json / estimar el total.
    Estimate {
        #[command(flatten)]
        project: ProjectArg,
        /// Estimate from a capture-history table instead of a project (0/1 column per list, or
        /// one `pattern` column such as 01101; optional `count`). The options marked "with --histories" need it; in a project they
        /// are set in recuento.toml, [estimation].
        #[arg(long)]
        histories: Option<PathBuf>,
        /// Stratum columns of the --histories file, comma separated.
        #[arg(long, value_delimiter = ',', requires = "histories")]
        strata: Vec<String>,
        /// The worksheet of an Excel --histories file that holds the table (default: the
        /// first).
        #[arg(long, requires = "histories")]
        sheet: Option<String>,
        /// Highest order of list interactions, 1 (lists independent) to 5 (with --histories).
        #[arg(long, default_value_t = 2, requires = "histories",
              value_parser = clap::value_parser!(u8)
                  .range(1..=recuento_model::MAX_ORDER as i64))]
        max_order: u8,
        /// Also estimate without each list in turn (leave-one-list-out), and, with the
        /// latent-class model on, run it again with Jeffreys' prior on the capture probabilities;
        /// in a project, writes out/sensitivity.json, which the report shows.
        #[arg(long)]
        sensitivity: bool,
        /// Also re-estimate from the linkages found at several match-probability thresholds and
        /// from 20 linkages drawn from the match probabilities (project only); writes
        /// out/linkage_sensitivity.json and out/linkage_draws.json, which the report shows.
        #[arg(long)]
        linkage_sensitivity: bool,
        /// Also run the Bayesian latent-class model (with --histories).
        #[arg(long, requires = "histories")]
        lcmcr: bool,
        /// Sweeps kept per chain of the latent-class model after burn-in, at least (with
        /// --histories; default 50,000). While the effective draws of N are fewer than 400, or
        /// R-hat is above 1.01 and still falling, the chains go on, doubling, up to 20 times
        /// this. Raise it when the estimate still warns that the sampler may not have converged.
        #[arg(long, requires = "histories")]
        sweeps: Option<usize>,
        /// Most latent classes of the latent-class model, the truncation K of its
        /// stick-breaking prior (with --histories; default 10; LCMCR's own default is 5).
        #[arg(long, requires = "histories")]
        classes: Option<usize>,
        /// Chains of the latent-class model, run in parallel (with --histories; default 2).
        #[arg(long, requires = "histories")]
        chains: Option<usize>,
        /// Burn-in sweeps per chain of the latent-class model, discarded (with --histories;
        /// default 10,000).
        #[arg(long, requires = "histories")]
        burn_in: Option<usize>,
        /// Seed of the sampler and of the posterior draws (with --histories).
        #[arg(long, default_value_t = 1, requires = "histories")]
        seed: u64,
        /// Leave out the average over decomposable graphical models (with --histories).
        #[arg(long, requires = "histories")]
        no_dga: bool,
        /// Prior people per cell of the dga hyper-Dirichlet prior (with --histories; default
        /// 2^-lists).
        #[arg(long, requires = "histories")]
        dga_delta: Option<f64>,
        /// A list with fewer people than this in a stratum is left out of it (with --histories).
        #[arg(long, default_value_t = 1, requires = "histories")]
        min_list_count: u64,
        /// Also fit this log-linear model with its profile-likelihood interval, written with
        /// the list names, e.g. "ong:prensa + familias:legal" (with --histories).
        #[arg(long, requires = "histories")]
        model: Option<String>,
        /// `aic` or `bic`: picks the best log-linear model and weights the average (with
        /// --histories).
        #[arg(long, default_value = "aic", value_parser = ["aic", "bic"], requires = "histories")]
        criterion: String,
        /// Print the estimates as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write out/report.html / escribir el informe.
    Report(ProjectArg),
    /// import + link + estimate + report.
    Run(ProjectArg),
    /// Generate a synthetic scenario with ground truth / generar un escenario sintético.
    Synth {
        /// True number of people (including those on no list).
        #[arg(long, default_value_t = 3000)]
        persons: usize,
        /// Seed: the same seed gives the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of lists (2–5).
        #[arg(long, default_value_t = 5)]
        lists: usize,
        /// Folder to write the project to.
        #[arg(long)]
        out: PathBuf,
        /// Instead of a project, write one CSV of this many records for a deduplication
        /// benchmark (`<out>/dedupe.csv`, truth in its person_id column).
        #[arg(long)]
        dedupe_records: Option<usize>,
    },
    /// Compare out/persons.csv with a truth file / evaluar la vinculación.
    Eval {
        /// `list,record_id,person_id` of the true people.
        #[arg(long)]
        truth: PathBuf,
        /// `list,record_id,person_id` predicted (out/persons.csv).
        #[arg(long)]
        persons: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Link plain files with a settings file: any columns, any list format (FEBRL, registers)
    /// / vincular archivos cualesquiera con un archivo de configuración.
    LinkFiles {
        /// Settings (TOML), or a model.json saved by an earlier run, whose trained λ, m and u
        /// then score the pairs as they are (no training).
        #[arg(long)]
        settings: PathBuf,
        /// With a model.json: train again from its settings instead of scoring with its
        /// parameters.
        #[arg(long)]
        retrain: bool,
        /// Folder for pairs.parquet, clusters.csv, model.json, linkage.json.
        #[arg(long, default_value = "recuento-out")]
        out: PathBuf,
        /// Column holding the true person of each record (benchmarks): also measures blocking
        /// recall, precision, recall and F1.
        #[arg(long)]
        truth_column: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// The files to link (CSV in any encoding, Excel, Parquet).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Synthetic scenario -> run -> eval, with a short summary / demostración completa.
    Demo {
        /// Folder for the demo project.
        #[arg(long, default_value = "recuento-demo")]
        out: PathBuf,
        /// True number of people.
        #[arg(long, default_value_t = 3000)]
        persons: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    // `println!` panics when stdout is a pipe that was closed (`recuento estimate | head`).
    // That is not a failure: end quietly with success, as `head` expects, instead of showing a
    // documentation worker a panic. Any other panic keeps the default report.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECUENTO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // clap's messages are in English only: a mistake gets its Spanish under them.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let spanish = recuento::usage::spanish(&e);
            let _ = e.print();
            if let Some(es) = spanish {
                eprintln!("En español: {es}");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`recuento ... | head`) is not a failure.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Init { dir } => init(&dir),
        Command::Import(p) => {
            let project = Project::open(&p.project)?;
            let imports = pipeline::import(&project, &Engine::new()).await?;
            print_imports(&imports);
            Ok(())
        }
        Command::Link(p) => {
            let project = Project::open(&p.project)?;
            let s = pipeline::link(&project, &Engine::new()).await?;
            print_link(&s);
            Ok(())
        }
        Command::Estimate {
            project,
            histories,
            strata,
            sheet,
            max_order,
            sensitivity,
            linkage_sensitivity,
            lcmcr,
            sweeps,
            classes,
            chains,
            burn_in,
            seed,
            no_dga,
            dga_delta,
            min_list_count,
            criterion,
            model,
            json,
        } => {
            let estimates = match histories {
                Some(file) => {
                    let (h, notes) =
                        recuento::histories::read_file(&file, &strata, sheet.as_deref())?;
                    for note in notes {
                        eprintln!("note: {note}");
                    }
                    if let Some(text) = &model {
                        recuento::mse::loglinear::Terms::parse(text, &h.lists)
                            .map_err(|why| anyhow::anyhow!("--model: {why}"))?;
                    }
                    if let Some(d) = dga_delta
                        && !(d.is_finite() && d > 0.0)
                    {
                        bail!("--dga-delta must be a positive number of prior people per cell");
                    }
                    let sampler = recuento::model::SamplerSettings {
                        sweeps,
                        classes,
                        chains,
                        burn_in,
                    };
                    sampler.check(["--sweeps", "--classes", "--chains", "--burn-in"])?;
                    if !lcmcr && sampler.any() {
                        bail!(
                            "--sweeps, --classes, --chains and --burn-in set the latent-class model, which runs with --lcmcr: add --lcmcr\n\
                             En español: --sweeps, --classes, --chains y --burn-in ajustan el modelo de clases latentes, que se ejecuta con --lcmcr: añada --lcmcr"
                        );
                    }
                    let lcmcr = lcmcr.then(|| recuento::pipeline::lcmcr_options(&sampler, seed));
                    let options = recuento::mse::Options {
                        max_order: usize::from(max_order),
                        criterion,
                        min_list_count,
                        lcmcr,
                        dga: (!no_dga).then_some(recuento::mse::dga::DgaOptions {
                            delta: dga_delta,
                            seed,
                        }),
                        model,
                    };
                    let mut estimates = recuento::mse::estimate(&h, &options);
                    if sensitivity {
                        let prior = recuento::mse::prior_sensitivity(&h, &options, &estimates);
                        estimates.extend(recuento::mse::leave_one_list_out(&h, &options));
                        estimates.extend(prior);
                    }
                    estimates
                }
                None => {
                    let project = Project::open(&project.project)?;
                    let engine = Engine::new();
                    let mut estimates = pipeline::estimate(&project, &engine).await?;
                    if sensitivity {
                        let runs = pipeline::sensitivity(&project, &estimates)?;
                        estimates.extend(runs);
                    }
                    if linkage_sensitivity {
                        let relink = pipeline::Relinker::new(&project, &engine).await?;
                        let alternatives = pipeline::linkage_sensitivity(&project, &relink)?;
                        if !json {
                            println!("linkage uncertainty (out/linkage_sensitivity.json):");
                            for a in &alternatives {
                                println!(
                                    "  threshold {:<5} {:>7} links {:>7} people  estimate {}",
                                    a.threshold,
                                    n(a.links as f64),
                                    n(a.persons as f64),
                                    a.estimate.estimate.map_or("none".into(), n)
                                );
                            }
                        }
                        let draws = pipeline::linkage_draws(&project, &relink)?;
                        if !json {
                            let mut totals: Vec<f64> =
                                draws.iter().filter_map(|d| d.estimate.estimate).collect();
                            totals.sort_by(f64::total_cmp);
                            if let (Some(lo), Some(hi)) = (totals.first(), totals.last()) {
                                println!(
                                    "  {} linkages drawn from the match probabilities (out/linkage_draws.json): estimate {} to {}, median {}",
                                    draws.len(),
                                    n(*lo),
                                    n(*hi),
                                    n(totals[totals.len() / 2])
                                );
                            }
                            if let Some(p) =
                                recuento::mse::pool_linkages(draws.iter().map(|d| &d.estimate))
                            {
                                println!(
                                    "  pooled over the {} linkages (Rubin's rules): {}, 95% interval {} – {} with linkage uncertainty; {:.0}% of its variance from the differences between linkages",
                                    p.draws,
                                    n(p.estimate),
                                    n(p.lower),
                                    n(p.upper),
                                    100.0 * p.linkage_share
                                );
                            }
                        }
                    }
                    estimates
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&estimates)?);
            } else {
                print_estimates(&estimates, None);
                print_estimate_details(&estimates);
            }
            Ok(())
        }
        Command::Report(p) => {
            let project = Project::open(&p.project)?;
            println!("report: {}", pipeline::report(&project)?.display());
            Ok(())
        }
        Command::Run(p) => {
            let project = Project::open(&p.project)?;
            let o = pipeline::run(&project).await?;
            print_imports(&o.imports);
            print_link(&o.linkage);
            print_estimates(&o.estimates, None);
            println!("report: {}", o.report.display());
            Ok(())
        }
        Command::Synth {
            dedupe_records: Some(records),
            seed,
            out,
            ..
        } => {
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let path = out.join("dedupe.csv");
            let s = recuento::synth::dedupe_file(records, seed, &path)?;
            println!(
                "wrote {}: {} records of {} people ({} true pairs); truth in the person_id column",
                path.display(),
                s.records,
                s.persons,
                s.true_pairs
            );
            Ok(())
        }
        Command::Synth {
            persons,
            seed,
            lists,
            out,
            dedupe_records: None,
        } => {
            let s = recuento::synth::generate(
                &recuento::synth::Options {
                    persons,
                    seed,
                    lists,
                },
                &out,
            )?;
            println!(
                "wrote a synthetic project to {}: {} people, {} on at least one list, {} lists ({} records). Truth: truth.csv, scenario.json.",
                out.display(),
                s.persons,
                s.observed,
                s.lists.len(),
                s.lists.iter().map(|l| l.records).sum::<usize>()
            );
            Ok(())
        }
        Command::Eval {
            truth,
            persons,
            json,
        } => {
            let e = recuento::eval::evaluate(
                &recuento::eval::read_assignment(&truth)?,
                &recuento::eval::read_assignment(&persons)?,
            );
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                print_eval(&e);
            }
            Ok(())
        }
        Command::LinkFiles {
            settings,
            retrain,
            out,
            truth_column,
            json,
            files,
        } => {
            let (settings, saved) = recuento::files::read_settings(&settings)?;
            let frozen = if retrain { None } else { saved };
            let mut engine = Engine::new();
            engine.set_progress(std::sync::Arc::new(recuento::progress::Stderr::default()));
            let s = recuento::files::link_files(
                &engine,
                &settings,
                frozen,
                &files,
                &out,
                truth_column.as_deref(),
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_files(&s, &out);
            }
            Ok(())
        }
        Command::Demo { out, persons, seed } => demo(&out, persons, seed).await,
    }
}

fn init(dir: &Path) -> Result<()> {
    let path = dir.join("recuento.toml");
    if path.exists() {
        bail!(
            "{} already exists; recuento will not overwrite it",
            path.display()
        );
    }
    std::fs::create_dir_all(dir.join("lists"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&path, INIT_TEMPLATE)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "created {}: put the lists in {} and describe them in recuento.toml",
        path.display(),
        dir.join("lists").display()
    );
    Ok(())
}

const INIT_TEMPLATE: &str = include_str!("init_template.toml");

fn print_files(s: &recuento::files::FilesSummary, out: &Path) {
    println!(
        "read {} rows from {} list(s); {} problems reported (import_problems.csv)",
        n(s.rows_read as f64),
        s.lists.len(),
        s.problems
    );
    println!("blocking rules (pairs generated / first found):");
    for (rule, pairs, first) in &s.blocking {
        println!(
            "  {rule:<40} {:>12} {:>12}",
            n(*pairs as f64),
            n(*first as f64)
        );
    }
    println!(
        "{} candidate pairs; EM {} iterations ({}), lambda {:.3e}; {} links; {} people ({} components split at weak links)",
        n(s.candidate_pairs as f64),
        s.em_iterations,
        if s.em_converged {
            "converged"
        } else {
            "NOT converged"
        },
        s.lambda,
        n(s.links as f64),
        n(s.persons as f64),
        s.split_components
    );
    if !s.flagged.is_empty() {
        println!(
            "{} people flagged for review (records that contradict each other; see linkage.json)",
            s.flagged.len()
        );
    }
    let secs: Vec<String> = s
        .seconds
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}s"))
        .collect();
    println!("time: {}", secs.join(", "));
    if let Some(e) = &s.evaluation {
        println!(
            "against the truth: blocking recall {:.4}; links precision {:.4} recall {:.4} F1 {:.4}; clusters precision {:.4} recall {:.4} F1 {:.4}; people {} found vs {} true",
            e.blocking_recall,
            e.link_precision,
            e.link_recall,
            e.link_f1,
            e.clusters.precision,
            e.clusters.recall,
            e.clusters.f1,
            n(e.clusters.predicted_persons as f64),
            n(e.clusters.true_persons as f64)
        );
    }
    println!("outputs: {}", out.display());
}

fn print_imports(imports: &[pipeline::ListImport]) {
    println!("import:");
    for l in imports {
        println!(
            "  {:<14} {:>7} rows read = {:>7} imported + {} not imported; {} problems reported ({})",
            l.name,
            n(l.rows_read as f64),
            n(l.rows_imported as f64),
            l.rows_not_imported,
            l.problems,
            l.encoding
        );
    }
    println!("  problems, row by row: out/import_report.csv");
}

fn print_link(s: &pipeline::LinkSummary) {
    println!(
        "link: {} records, {} candidate pairs, {} links at match probability >= {} -> {} people (EM: {} iterations{})",
        n(s.records as f64),
        n(s.candidate_pairs as f64),
        n(s.links as f64),
        s.threshold,
        n(s.persons as f64),
        s.model.iterations,
        if s.model.converged {
            ", converged"
        } else {
            ", NOT converged"
        }
    );
    if !s.diagnostics.flagged.is_empty() {
        println!(
            "  {} people flagged for review (see the report)",
            s.diagnostics.flagged.len()
        );
    }
}

fn print_estimates(estimates: &[recuento::mse::Estimate], truth: Option<usize>) {
    println!("estimate:");
    for e in estimates {
        let label = e.label();
        match (e.estimate, e.lower, e.upper) {
            (Some(x), Some(lo), hi) => {
                let inside = truth.map(|t| {
                    if lo <= t as f64 && hi.is_none_or(|h| t as f64 <= h) {
                        "  (true total inside the interval)"
                    } else {
                        "  (true total OUTSIDE the interval)"
                    }
                });
                println!(
                    "  [{}] {:<20} {:>7}  95% interval {} – {}   observed {}{}",
                    e.stratum,
                    label,
                    n(x),
                    n(lo),
                    hi.map_or("unbounded".to_string(), n),
                    n(e.observed as f64),
                    inside.unwrap_or("")
                );
            }
            _ => {
                println!(
                    "  [{}] {:<20} no estimate: {}",
                    e.stratum,
                    label,
                    // Reasons end without a full stop; "; " keeps them apart.
                    e.warnings.join("; ")
                );
                println!(
                    "  [{}] {:<20} sin estimación: {}",
                    e.stratum,
                    "",
                    e.warnings_es.join("; ")
                );
            }
        }
    }
}

/// The capture-pattern table, the diagnostics of each method and the warnings, stratum by
/// stratum: what a statistician checks before trusting a number.
fn print_estimate_details(estimates: &[recuento::mse::Estimate]) {
    let mut strata: Vec<&str> = Vec::new();
    for e in estimates {
        if !strata.contains(&e.stratum.as_str()) {
            strata.push(&e.stratum);
        }
    }
    for stratum in strata {
        let here: Vec<&recuento::mse::Estimate> =
            estimates.iter().filter(|e| e.stratum == stratum).collect();
        println!();
        println!("[{stratum}]");
        if let Some(best) = here.iter().find(|e| !e.cells.is_empty()) {
            println!(
                "  capture patterns (1 = on the list; lists {}), observed and fitted by {}:",
                best.lists.join(", "),
                best.model
            );
            for c in &best.cells {
                println!("    {}  {:>7}  {:>9.1}", c.pattern, c.observed, c.fitted);
            }
        }
        for e in &here {
            if let Some(m) = &e.mcmc {
                println!(
                    "  {}: R-hat {:.3}, effective draws of N {}, {} chains x {} sweeps ({} burn-in), {} classes, seed {}{}",
                    e.method,
                    m.r_hat,
                    n(m.ess),
                    m.chains,
                    n(m.sweeps as f64),
                    n(m.burn_in as f64),
                    m.classes,
                    m.seed,
                    m.ppp.map_or(String::new(), |p| format!(
                        ", posterior predictive p {p:.2}"
                    ))
                );
            }
            if e.method == "dga" && !e.models.is_empty() {
                println!("  dga: most probable graphs (posterior probability, median of N):");
                for (graph, weight, median) in e.models.iter().take(5) {
                    println!("    {graph:<40} {weight:.3}  {}", n(*median));
                }
            }
            if let Some((deviance, df)) = e.deviance {
                let stderr = e
                    .stderr
                    .map(|s| format!(", standard error of the total {s:.1}"))
                    .unwrap_or_default();
                let fit = e
                    .fit_p_value
                    .map(|p| format!(" ({})", recuento::mse::p_value(p)))
                    .unwrap_or_default();
                println!(
                    "  {} ({}): deviance {deviance:.2} on {df} degrees of freedom{fit}, AIC {:.2}{stderr}",
                    e.method,
                    e.model,
                    e.aic.unwrap_or(f64::NAN)
                );
            }
        }
        // Each warning once, with its Spanish under it for the documentation team.
        let mut seen = std::collections::BTreeSet::new();
        for e in &here {
            for (i, w) in e.warnings.iter().enumerate() {
                if seen.insert(w.as_str()) {
                    println!("  warning ({}): {w}", e.label());
                    if let Some(es) = e.warnings_es.get(i) {
                        println!("  aviso ({}): {es}", e.label());
                    }
                }
            }
        }
    }
}

fn print_eval(e: &recuento::eval::Evaluation) {
    println!(
        "linkage quality over {} records: pairwise precision {:.4}, recall {:.4}, F1 {:.4}; B-cubed precision {:.4}, recall {:.4}; people predicted {} vs true {}",
        n(e.records as f64),
        e.precision,
        e.recall,
        e.f1,
        e.bcubed_precision,
        e.bcubed_recall,
        n(e.predicted_persons as f64),
        n(e.true_persons as f64)
    );
    if e.unmatched_records > 0 {
        println!(
            "  {} records appear in only one of the two files and were not evaluated",
            e.unmatched_records
        );
    }
}

async fn demo(out: &Path, persons: usize, seed: u64) -> Result<()> {
    let scenario = recuento::synth::generate(
        &recuento::synth::Options {
            persons,
            seed,
            lists: 5,
        },
        out,
    )?;
    println!(
        "recuento demo: synthetic scenario (seed {seed}) in {}: {} true people, {} on at least one list",
        out.display(),
        n(scenario.persons as f64),
        n(scenario.observed as f64)
    );
    let started = Instant::now();
    let project = Project::open(out)?;
    let o = pipeline::run(&project).await?;
    let elapsed = started.elapsed();
    print_imports(&o.imports);
    print_link(&o.linkage);
    let e = recuento::eval::evaluate(
        &recuento::eval::read_assignment(&out.join("truth.csv"))?,
        &recuento::eval::read_assignment(&out.join("out").join("persons.csv"))?,
    );
    print_eval(&e);
    print_estimates(&o.estimates, Some(scenario.persons));
    println!("true total: {} people", n(scenario.persons as f64));
    println!("report: {}", o.report.display());
    println!("processing time: {:.1} s", elapsed.as_secs_f64());
    Ok(())
}
