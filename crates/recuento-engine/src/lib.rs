//! The only crate that uses DataFusion: the heavy, data-parallel stages of recuento.
//!
//! ```text
//! ingest::read_list ─> Engine::load_records ─> Engine::link
//!  (files -> RawList)   (standardise, SQL+UDFs)   block -> compare -> pattern counts -> EM -> score
//!                        out/records.parquet        out/comparisons.parquet, out/pairs.parquet
//! ```
//!
//! * [`ingest`]: reads CSV (any encoding and delimiter), Excel and Parquet lists, reporting every
//!   problem by line and column.
//! * [`Engine::load_records`]: standardises every list into one `records` table by SQL over the
//!   scalar functions in [`udf`].
//! * [`Engine::link`]: runs the blocking rules as joins ([`blocking`]), computes comparison
//!   levels, trains the Fellegi–Sunter model on pattern counts (`recuento-fs`) and scores every
//!   candidate pair ([`linkage`]).
#![deny(missing_docs)]

pub mod blocking;
pub mod ingest;
pub mod linkage;
pub mod standardise;
pub mod udf;

use datafusion::prelude::{SessionConfig, SessionContext};

pub use linkage::{COMPARISONS, Comparison, LinkOutput};
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
    #[error("cannot read list file {file}: {reason}")]
    Unreadable {
        /// The file as configured.
        file: String,
        /// Why, in plain words.
        reason: String,
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
    Internal(#[from] datafusion::error::DataFusionError),
    /// Training failed.
    #[error(transparent)]
    Training(#[from] recuento_fs::Error),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// A DataFusion session with recuento's functions registered.
pub struct Engine {
    ctx: SessionContext,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// A session using every core, with recuento's functions.
    pub fn new() -> Engine {
        let config = SessionConfig::new().with_information_schema(false);
        let ctx = SessionContext::new_with_config(config);
        for f in udf::recuento_udfs() {
            ctx.register_udf(f);
        }
        Engine { ctx }
    }

    /// The underlying DataFusion session (for embedding and tests).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}
