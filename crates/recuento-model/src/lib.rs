//! Vocabulary shared by every recuento crate.
//!
//! * [`Field`]: the canonical fields a list's columns are mapped to.
//! * [`ProjectConfig`]: the user-written `recuento.toml` (lists, column mapping, linkage and
//!   estimation settings), parsed with [`ProjectConfig::from_toml`].
//! * [`PartialDate`]: a date that keeps its precision (day, month or year only).
//! * [`CaptureHistories`]: per-person capture patterns over lists, the input of estimation.
//!
//! ```
//! use recuento_model::{PartialDate, Precision};
//! let d = PartialDate::parse_iso("2023-04").unwrap();
//! assert_eq!(d.precision(), Precision::Month);
//! assert_eq!(d.to_string(), "2023-04");
//! ```
#![deny(missing_docs)]

mod config;
mod config_error;
mod date;
mod history;
mod settings;
pub mod spreadsheet;

pub use config::{
    BlockingRule, EstimationConfig, LinkageConfig, ListSpec, MAX_ORDER, ProjectConfig, ProjectInfo,
    STRATUM_KEYS, SamplerSettings,
};
pub use config_error::ConfigError;
pub use date::{PartialDate, Precision};
pub use history::{CaptureHistories, CapturePattern};
pub use settings::{ClusteringMethod, ComparisonSpec, LinkSettings, LinkType, Method};

use serde::{Deserialize, Serialize};

/// The canonical fields that a list's own columns are mapped to in `recuento.toml`.
///
/// Every field is optional for a given list; linkage uses what both records of a pair have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The list's own identifier for the record.
    RecordId,
    /// The whole name in one column, split by Spanish conventions on import.
    FullName,
    /// Given names (`José Luis`).
    GivenNames,
    /// First (paternal) surname.
    Surname1,
    /// Second (maternal) surname.
    Surname2,
    /// Both surnames in one column (`Hernández López`).
    Surnames,
    /// Nickname or alias (`El Flaco`).
    Alias,
    /// Sex as written in the list.
    Sex,
    /// Date of birth, at whatever precision the list has.
    BirthDate,
    /// Age in years at the event.
    Age,
    /// National identity number: DUI (El Salvador) or cédula (Venezuela).
    NationalId,
    /// Date of the event the list records (death, detention, deportation).
    EventDate,
    /// Place (municipality, department) as written.
    Place,
    /// Prison or detention facility.
    Facility,
}

impl Field {
    /// All fields, in the order they appear in documentation and outputs.
    pub const ALL: [Field; 14] = [
        Field::RecordId,
        Field::FullName,
        Field::GivenNames,
        Field::Surname1,
        Field::Surname2,
        Field::Surnames,
        Field::Alias,
        Field::Sex,
        Field::BirthDate,
        Field::Age,
        Field::NationalId,
        Field::EventDate,
        Field::Place,
        Field::Facility,
    ];

    /// The key used in `recuento.toml` (`given_names`, `birth_date`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Field::RecordId => "record_id",
            Field::FullName => "full_name",
            Field::GivenNames => "given_names",
            Field::Surname1 => "surname1",
            Field::Surname2 => "surname2",
            Field::Surnames => "surnames",
            Field::Alias => "alias",
            Field::Sex => "sex",
            Field::BirthDate => "birth_date",
            Field::Age => "age",
            Field::NationalId => "national_id",
            Field::EventDate => "event_date",
            Field::Place => "place",
            Field::Facility => "facility",
        }
    }

    /// Parses a `recuento.toml` key.
    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// Order of day and month in a list's numeric dates (`03/04/2023`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Day first, as in Latin America and Spain (the default).
    #[default]
    Dmy,
    /// Month first, as in the United States.
    Mdy,
}
