//! The only crate that uses DataFusion: the heavy, data-parallel stages of recuento.
//!
//! ```text
//! ingest::read_list ─> Engine::load_records ─> Engine::link
//!  (files -> RawList)   (standardise, SQL+UDFs)   block -> compare -> pattern counts -> EM -> score
//!                        out/records.parquet        out/comparisons.arrows (temporary), out/pairs.parquet
//! ```
//!
//! * [`ingest`]: reads CSV (any encoding and delimiter), Excel and Parquet lists, reporting every
//!   problem by line and column.
//! * [`Engine::load_records`]: standardises every list into one `records` table by SQL over the
//!   scalar functions in [`udf`].
//! * [`Engine::link`]: generates each blocking rule's pairs ([`blocking`]), computes comparison
//!   levels, trains the Fellegi–Sunter model on pattern counts (`recuento-fs`) and scores every
//!   candidate pair ([`linkage`]).
#![deny(missing_docs)]

pub mod blocking;
pub mod generic;
pub mod ingest;
pub mod linkage;
pub mod linker;
mod parquet_out;
mod spool;
pub mod standardise;
pub mod udf;

use datafusion::prelude::{SessionConfig, SessionContext};

pub use linkage::{COMPARISONS, Comparison};
pub use linker::{LinkOutput, LinkPlan, Progress, RecordKeys, Silent, TextColumn};
pub use standardise::RecordsSummary;

/// Errors of the engine, split as DataFusion does: the user's settings ([`Error::Plan`]), the
/// data ([`Error::Unreadable`]), or recuento itself ([`Error::Internal`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The settings ask for something the data cannot give (a missing column, an exploding
    /// blocking rule); the message says what to change.
    #[error("{0}")]
    Plan(String),
    /// A list's file cannot be read at all.
    #[error(
        "cannot read list file {file}: {reason}\nEn español: no se puede leer el archivo de la lista {file}: {reason_es}"
    )]
    Unreadable {
        /// The file as configured.
        file: String,
        /// Why, in plain words.
        reason: String,
        /// Why, in Spanish.
        reason_es: String,
    },
    /// Writing an output failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// DataFusion failed running a plan recuento built: a bug (please report).
    #[error("internal error in the query engine (please report): {0}")]
    Internal(datafusion::error::DataFusionError),
    /// A join needed more memory than recuento may use and cannot spill to disk: the settings
    /// ask for too much at once, which the user can change.
    #[error(
        "linking needs more memory than recuento may use ({limit_mb} MB) for a step that cannot spill to disk. The usual cause is a blocking rule whose keys nearly every record has: add a condition to the broadest rule (the table of rules shows their pair counts), or allow more memory with RECUENTO_MEMORY_LIMIT_MB (e.g. {suggested_mb}). / La vinculación necesita más memoria de la permitida ({limit_mb} MB): añada una condición a la regla de bloqueo más amplia o aumente RECUENTO_MEMORY_LIMIT_MB. ({detail})"
    )]
    Memory {
        /// The limit in force, in MB.
        limit_mb: usize,
        /// Twice the limit, as a suggestion.
        suggested_mb: usize,
        /// DataFusion's own words.
        detail: String,
    },
    /// Training failed.
    #[error(transparent)]
    Training(#[from] recuento_fs::Error),
}

impl From<datafusion::error::DataFusionError> for Error {
    /// Out-of-memory in a join (DataFusion cannot spill hash joins) is the user's to fix, so it
    /// becomes [`Error::Memory`] with advice; anything else is [`Error::Internal`].
    fn from(e: datafusion::error::DataFusionError) -> Self {
        if let datafusion::error::DataFusionError::ResourcesExhausted(detail) = e.find_root() {
            let limit_mb = memory_limit() >> 20;
            return Error::Memory {
                limit_mb,
                suggested_mb: 2 * limit_mb,
                detail: detail.chars().take(200).collect(),
            };
        }
        Error::Internal(e)
    }
}

/// The error for a worker task that panicked or was cancelled while `what`: a bug in recuento.
pub(crate) fn task_stopped(what: &str) -> impl Fn(tokio::task::JoinError) -> Error + '_ {
    move |e| Error::Plan(format!("internal: {what} stopped ({e}); please report"))
}

/// The memory DataFusion may track: `RECUENTO_MEMORY_LIMIT_MB`, or [`MEMORY_LIMIT`].
fn memory_limit() -> usize {
    std::env::var("RECUENTO_MEMORY_LIMIT_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(MEMORY_LIMIT, |mb| mb << 20)
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// A DataFusion session with recuento's functions registered.
pub struct Engine {
    ctx: SessionContext,
    progress: std::sync::Arc<dyn Progress>,
    /// The `records` table as one batch, when the generic loader built it in memory (pairs look
    /// their records up in it; kept here so that it is not copied).
    records_cache: std::sync::Mutex<Option<datafusion::arrow::array::RecordBatch>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

/// Default memory DataFusion may track before spilling (768 MiB).
pub const MEMORY_LIMIT: usize = 768 << 20;

impl Engine {
    /// A session using every core, with recuento's functions.
    ///
    /// Sorts and aggregations that DataFusion tracks may use up to [`MEMORY_LIMIT`] bytes (or
    /// `RECUENTO_MEMORY_LIMIT_MB`) and spill to temporary files beyond it, so that linking a
    /// million records stays within a small machine's memory.
    pub fn new() -> Engine {
        let config = SessionConfig::new().with_information_schema(false);
        let limit = memory_limit();
        let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            // A fair pool shares the limit between the operators that track memory (joins, the
            // aggregations that count blocks).
            .with_memory_pool(std::sync::Arc::new(
                datafusion::execution::memory_pool::FairSpillPool::new(limit),
            ))
            .build_arc();
        let ctx = match runtime {
            Ok(r) => SessionContext::new_with_config_rt(config, r),
            Err(_) => SessionContext::new_with_config(config),
        };
        for f in udf::recuento_udfs() {
            ctx.register_udf(f);
        }
        Engine {
            ctx,
            progress: std::sync::Arc::new(Silent),
            records_cache: std::sync::Mutex::new(None),
        }
    }

    /// Remembers (or forgets) the in-memory `records` batch.
    pub(crate) fn set_records_cache(&self, records: Option<datafusion::arrow::array::RecordBatch>) {
        if let Ok(mut c) = self.records_cache.lock() {
            *c = records;
        }
    }

    /// The underlying DataFusion session (for embedding and tests).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}

/// The previous run's large outputs in a folder, being removed on a thread of their own.
///
/// Linking again into the same folder replaces `pairs.parquet` (hundreds of megabytes at a
/// million records). Opening it for writing truncated it first, and freeing that much file
/// cache took the kernel 0.4–0.5 s inside the scoring stage (docs/benchmarks.md). Renamed
/// aside when a run starts and removed while the lists are read, the old file costs the run
/// nothing; dropping this value waits for the removal, so no renamed file is left behind.
pub struct PreviousOutputs {
    removing: Option<std::thread::JoinHandle<()>>,
}

impl PreviousOutputs {
    /// Files of a previous run that a new run replaces (the temporary comparisons file is
    /// there only when a run stopped before its end).
    const REPLACED: [&str; 2] = ["pairs.parquet", "comparisons.arrows"];

    /// Renames the previous run's large outputs in `out_dir` aside, if there are any, and
    /// starts removing them, with any left aside by a run that was stopped before it could
    /// remove them. A file that cannot be renamed is left where it is (the run then
    /// overwrites it).
    pub fn remove_in_background(out_dir: &std::path::Path) -> PreviousOutputs {
        let mut aside: Vec<std::path::PathBuf> = Self::REPLACED
            .iter()
            .filter_map(|name| {
                let path = out_dir.join(name);
                let old = out_dir.join(format!(".{name}.previous-{}", std::process::id()));
                std::fs::rename(&path, &old).ok().map(|()| old)
            })
            .collect();
        if let Ok(entries) = std::fs::read_dir(out_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let stale = Self::REPLACED
                    .iter()
                    .any(|r| name.starts_with(&format!(".{r}.previous-")));
                if stale && !aside.contains(&entry.path()) {
                    aside.push(entry.path());
                }
            }
        }
        let removing = (!aside.is_empty()).then(|| {
            std::thread::spawn(move || {
                for path in aside {
                    if let Err(e) = std::fs::remove_file(&path) {
                        tracing::warn!(path = %path.display(), error = %e, "could not remove a previous output");
                    }
                }
            })
        });
        PreviousOutputs { removing }
    }
}

impl Drop for PreviousOutputs {
    fn drop(&mut self) {
        if let Some(t) = self.removing.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod previous_outputs_tests {
    use super::PreviousOutputs;

    #[test]
    fn previous_outputs_are_removed_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pairs.parquet"), b"old pairs").unwrap();
        // Left aside by a run that was stopped before it removed it.
        std::fs::write(dir.path().join(".pairs.parquet.previous-1"), b"older").unwrap();
        std::fs::write(dir.path().join("clusters.csv"), b"kept").unwrap();
        let previous = PreviousOutputs::remove_in_background(dir.path());
        // Renamed aside at once: the run can write its own pairs.parquet straight away.
        assert!(!dir.path().join("pairs.parquet").exists());
        std::fs::write(dir.path().join("pairs.parquet"), b"new pairs").unwrap();
        drop(previous);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["clusters.csv", "pairs.parquet"]);
        assert_eq!(
            std::fs::read(dir.path().join("pairs.parquet")).unwrap(),
            b"new pairs"
        );
        // Nothing to remove, or no folder at all: nothing happens.
        drop(PreviousOutputs::remove_in_background(
            dir.path().join("none").as_path(),
        ));
    }
}
