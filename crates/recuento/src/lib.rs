//! recuento: from partial lists of victims to people and an estimate of the total.
//!
//! The pipeline, one stage per module of the crates it re-exports:
//!
//! 1. **import**: each list's file is read ([`engine::ingest`]), stored as an immutable snapshot
//!    ([`store`]) and every problem is reported by line and column;
//! 2. **standardise**: names, dates, IDs and places become comparable ([`text`], run by
//!    [`engine`]);
//! 3. **block, compare, train, score**: candidate pairs, comparison levels, Fellegi–Sunter m/u by
//!    EM on pattern counts ([`fs`]), a match weight and probability per pair;
//! 4. **cluster**: pairs above the threshold join records into people ([`cluster`]);
//! 5. **estimate**: capture histories per person -> multiple systems estimation ([`mse`]);
//! 6. **report**: a self-contained HTML report with a reproducibility manifest ([`report`]).
//!
//! ```text
//! lists ─> import ─> standardise ─> block ─> compare ─> EM ─> score ─> cluster ─> estimate ─> report
//!          (store)   (DataFusion + UDFs ........................)      (union-find) (log-linear)
//! ```
//!
//! [`pipeline`] runs these stages on a project folder; the `recuento` binary is a thin CLI over it.
#![deny(missing_docs)]

pub use recuento_cluster as cluster;
pub use recuento_engine as engine;
pub use recuento_fs as fs;
pub use recuento_model as model;
pub use recuento_mse as mse;
pub use recuento_report as report;
pub use recuento_store as store;
pub use recuento_synth as synth;
pub use recuento_text as text;

pub mod eval;
pub mod files;
pub mod histories;
pub mod pipeline;
pub mod progress;
pub mod usage;

/// The software version written into every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
