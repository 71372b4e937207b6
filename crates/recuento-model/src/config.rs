//! `recuento.toml`: the project settings a user writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConfigError, DateOrder, Field};

/// The whole project configuration (`recuento.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Name and seed of the project.
    pub project: ProjectInfo,
    /// The lists, in the order they appear in capture histories.
    #[serde(default)]
    pub lists: Vec<ListSpec>,
    /// Linkage settings.
    #[serde(default)]
    pub linkage: LinkageConfig,
    /// Estimation settings.
    #[serde(default)]
    pub estimation: EstimationConfig,
}

/// `[project]`: name and the seed of every random draw.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectInfo {
    /// A human name for the project, shown in the report.
    pub name: String,
    /// Seed for every random draw (u sampling, EM starting values); written to the manifest.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    1
}

/// One `[[lists]]` entry: a file plus what is known about how it was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// Short name used in outputs (`persons.csv`, capture histories). Letters, digits, `_`, `-`.
    pub name: String,
    /// Path of the file, relative to the project folder.
    pub file: String,
    /// The organisation that keeps the list.
    #[serde(default)]
    pub organisation: String,
    /// How the list was collected (testimonies, press monitoring, leaked register, ...).
    #[serde(default)]
    pub collection: String,
    /// Period the list covers, free text such as `2022-03/2025-12`.
    #[serde(default)]
    pub period: String,
    /// Text encoding of a CSV: `auto` (detected), `utf-8` or `windows-1252`.
    #[serde(default = "default_auto")]
    pub encoding: String,
    /// Delimiter of a CSV: `auto`, `,`, `;` or `tab`.
    #[serde(default = "default_auto")]
    pub delimiter: String,
    /// Worksheet of an Excel workbook; the first one when absent.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Order of day and month in numeric dates.
    #[serde(default)]
    pub date_order: DateOrder,
    /// Set to true when the list is known to hold each person at most once.
    #[serde(default)]
    pub no_duplicates: bool,
    /// Canonical field key -> the list's own column header.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

fn default_auto() -> String {
    "auto".to_string()
}

impl ListSpec {
    /// A list read with every setting on automatic (encoding, delimiter, first sheet, day before
    /// month) and no column mapping: all columns are kept as they are.
    pub fn plain(name: &str, file: &str) -> ListSpec {
        ListSpec {
            name: name.to_string(),
            file: file.to_string(),
            organisation: String::new(),
            collection: String::new(),
            period: String::new(),
            encoding: default_auto(),
            delimiter: default_auto(),
            sheet: None,
            date_order: DateOrder::Dmy,
            no_duplicates: false,
            columns: BTreeMap::new(),
        }
    }

    /// The mapped columns as (field, header) pairs, checked against the known field keys.
    ///
    /// # Errors
    /// An unknown field key, with the list's name in the message.
    pub fn mapping(&self) -> Result<Vec<(Field, String)>, ConfigError> {
        self.columns
            .iter()
            .map(|(k, v)| {
                Field::from_key(k).map(|f| (f, v.clone())).ok_or_else(|| {
                    let known = Field::ALL.map(Field::key).join(", ");
                    ConfigError::invalid(
                        format!(
                            "list '{}': unknown field '{k}' in [lists.columns]; known fields are: {known}",
                            self.name
                        ),
                        format!(
                            "lista '{}': el campo '{k}' de [lists.columns] no existe; los campos son: {known}",
                            self.name
                        ),
                    )
                })
            })
            .collect()
    }
}

/// One blocking rule: records become a candidate pair when every condition holds.
///
/// A condition is a standardised column name (`surname1_key`: equal on both sides) or
/// `left=right` to compare two different columns (`surname1_key=surname2_key`, for surnames
/// written in the other order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlockingRule(pub Vec<String>);

/// `[linkage]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkageConfig {
    /// Pairs with a match probability at or above this are linked into one person.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Blocking rules, OR-ed: a pair is a candidate if any rule holds, and is scored once.
    #[serde(default = "default_blocking")]
    pub blocking: Vec<BlockingRule>,
    /// Random record pairs drawn to estimate the u probabilities.
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: usize,
    /// Maximum EM iterations.
    #[serde(default = "default_em_iterations")]
    pub max_em_iterations: usize,
    /// Largest block a rule may make (records sharing one key) before it is refused.
    #[serde(default = "default_max_block")]
    pub max_block_size: usize,
}

fn default_threshold() -> f64 {
    0.9
}
fn default_u_pairs() -> usize {
    500_000
}
fn default_em_iterations() -> usize {
    1000
}
fn default_max_block() -> usize {
    20_000
}

/// The default blocking rules for victim lists (see `docs/linkage.md`).
pub fn default_blocking() -> Vec<BlockingRule> {
    [
        vec!["national_id"],
        vec!["surname1_key", "given1_key"],
        vec!["surname1_key=surname2_key", "given1_key"],
        vec!["given1_key", "event_date"],
        vec!["surname1_phonetic", "birth_year"],
        vec!["surname1_key", "event_month"],
        vec!["surname2_key", "given1_key"],
        vec!["given1_key", "event_month"],
        vec!["event_date", "facility"],
    ]
    .into_iter()
    .map(|r| BlockingRule(r.into_iter().map(str::to_string).collect()))
    .collect()
}

impl Default for LinkageConfig {
    fn default() -> Self {
        LinkageConfig {
            threshold: default_threshold(),
            blocking: default_blocking(),
            u_sample_pairs: default_u_pairs(),
            max_em_iterations: default_em_iterations(),
            max_block_size: default_max_block(),
        }
    }
}

/// Values `[estimation] strata` accepts: standardised fields a person can be grouped by.
pub const STRATUM_KEYS: [&str; 4] = ["sex", "facility", "place", "event_year"];

/// `[estimation]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimationConfig {
    /// Highest order of list interactions in log-linear models (1 = independence, 2 = pairwise).
    #[serde(default = "default_max_order")]
    pub max_order: usize,
    /// Criterion that picks the best log-linear model: `aic` or `bic`.
    #[serde(default = "default_criterion")]
    pub criterion: String,
    /// Stratum columns (see [`STRATUM_KEYS`]); empty for one total.
    #[serde(default)]
    pub strata: Vec<String>,
    /// Also run the Bayesian latent-class model (LCMCR) with 3 or more lists.
    #[serde(default)]
    pub lcmcr: bool,
    /// Sweeps kept per chain of the latent-class model after burn-in; unset = 50,000. Raise it
    /// when the estimate warns that the sampler may not have converged.
    #[serde(default)]
    pub lcmcr_sweeps: Option<usize>,
    /// Most latent classes (the truncation K of the stick-breaking prior); unset = 10.
    #[serde(default)]
    pub lcmcr_classes: Option<usize>,
    /// Chains of the latent-class model, run in parallel; unset = 2.
    #[serde(default)]
    pub lcmcr_chains: Option<usize>,
    /// Burn-in sweeps per chain, discarded; unset = 10,000.
    #[serde(default)]
    pub lcmcr_burn_in: Option<usize>,
    /// Average over decomposable graphical models (Madigan & York; the dga package) with 3 to 6
    /// lists. On by default.
    #[serde(default = "default_true")]
    pub dga: bool,
    /// Prior people per cell of the dga hyper-Dirichlet prior; unset = 2^−lists (one prior
    /// person in all).
    #[serde(default)]
    pub dga_delta: Option<f64>,
    /// Also fit this log-linear model, written with the list names
    /// (`"ong:prensa + familias:legal"`), with its profile-likelihood interval.
    #[serde(default)]
    pub model: Option<String>,
    /// A list with fewer people than this in a stratum is left out of that stratum (said in the
    /// output); small lists make sparse tables and unstable estimates.
    #[serde(default = "default_min_list_count")]
    pub min_list_count: u64,
}

fn default_min_list_count() -> u64 {
    1
}

fn default_true() -> bool {
    true
}

/// Highest `max_order` accepted, in `recuento.toml` and by `recuento estimate --max-order`:
/// with six lists, every term short of the saturated one (Rcapture's `closedpMS.t` allows
/// t − 1 by default); more than a table's lists allow is the same as t − 1.
pub const MAX_ORDER: usize = 5;

fn default_max_order() -> usize {
    2
}
fn default_criterion() -> String {
    "aic".to_string()
}

impl Default for EstimationConfig {
    fn default() -> Self {
        EstimationConfig {
            max_order: default_max_order(),
            criterion: default_criterion(),
            strata: Vec::new(),
            lcmcr: false,
            lcmcr_sweeps: None,
            lcmcr_classes: None,
            lcmcr_chains: None,
            lcmcr_burn_in: None,
            dga: true,
            dga_delta: None,
            model: None,
            min_list_count: default_min_list_count(),
        }
    }
}

impl ProjectConfig {
    /// Parses and checks `recuento.toml` text.
    ///
    /// # Errors
    /// Invalid TOML (with the line), unknown keys, duplicate list names, bad thresholds.
    pub fn from_toml(text: &str) -> Result<ProjectConfig, ConfigError> {
        let config: ProjectConfig =
            toml::from_str(text).map_err(|e| ConfigError::toml(text, &e))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for list in &self.lists {
            if list.name.is_empty()
                || !list
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(ConfigError::invalid(
                    format!(
                        "[[lists]] name: '{}' must be letters, digits, '_' or '-' (no spaces)",
                        list.name
                    ),
                    format!(
                        "[[lists]] name: '{}' debe tener solo letras, cifras, '_' o '-' (sin espacios)",
                        list.name
                    ),
                ));
            }
            if !seen.insert(list.name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("two lists are called '{}'", list.name),
                    format!("dos listas se llaman '{}'", list.name),
                ));
            }
            list.mapping()?;
            if !["auto", "utf-8", "utf8", "windows-1252", "latin-1", "latin1"]
                .contains(&list.encoding.to_ascii_lowercase().as_str())
            {
                return Err(ConfigError::invalid(
                    format!(
                        "list '{}': encoding '{}' is not one of auto, utf-8, windows-1252",
                        list.name, list.encoding
                    ),
                    format!(
                        "lista '{}': la codificación '{}' no es una de auto, utf-8, windows-1252",
                        list.name, list.encoding
                    ),
                ));
            }
            if !["auto", ",", ";", "tab", "\t", "|"].contains(&list.delimiter.as_str()) {
                return Err(ConfigError::invalid(
                    format!(
                        "list '{}': delimiter '{}' is not one of auto, ',', ';', tab, '|'",
                        list.name, list.delimiter
                    ),
                    format!(
                        "lista '{}': el separador '{}' no es uno de auto, ',', ';', tab, '|'",
                        list.name, list.delimiter
                    ),
                ));
            }
        }
        let t = self.linkage.threshold;
        if !(t > 0.0 && t < 1.0) {
            return Err(ConfigError::invalid(
                format!(
                    "[linkage] threshold must be a match probability between 0 and 1 (such as 0.9), not {t}"
                ),
                format!(
                    "[linkage] threshold debe ser una probabilidad de coincidencia entre 0 y 1 (como 0.9), no {t}"
                ),
            ));
        }
        if self.linkage.blocking.is_empty() {
            return Err(ConfigError::invalid(
                "[linkage] blocking needs at least one rule",
                "[linkage] blocking necesita al menos una regla",
            ));
        }
        if !["aic", "bic"].contains(&self.estimation.criterion.as_str()) {
            return Err(ConfigError::invalid(
                format!(
                    "[estimation] criterion must be 'aic' or 'bic', not '{}'",
                    self.estimation.criterion
                ),
                format!(
                    "[estimation] criterion debe ser 'aic' o 'bic', no '{}'",
                    self.estimation.criterion
                ),
            ));
        }
        if let Some(model) = &self.estimation.model {
            // The full check (hierarchy, repeated terms) is the estimator's; names are checked
            // here so that a typo stops the run before linkage, not after.
            for part in model.split('+').map(str::trim) {
                if part == "independence" || part.starts_with("Mth ") {
                    continue;
                }
                for name in part.split(':').map(str::trim) {
                    if !self.lists.iter().any(|l| l.name == name) {
                        let lists = self
                            .lists
                            .iter()
                            .map(|l| l.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(ConfigError::invalid(
                            format!(
                                "[estimation] model: '{name}' is not one of the lists ({lists})"
                            ),
                            format!(
                                "[estimation] model: '{name}' no es una de las listas ({lists})"
                            ),
                        ));
                    }
                }
            }
        }
        if let Some(d) = self.estimation.dga_delta
            && !(d.is_finite() && d > 0.0)
        {
            return Err(ConfigError::invalid(
                format!(
                    "[estimation] dga_delta must be a positive number of prior people per cell, not {d}"
                ),
                format!(
                    "[estimation] dga_delta debe ser un número positivo de personas a priori por celda, no {d}"
                ),
            ));
        }
        self.estimation.sampler().check([
            "[estimation] lcmcr_sweeps",
            "[estimation] lcmcr_classes",
            "[estimation] lcmcr_chains",
            "[estimation] lcmcr_burn_in",
        ])?;
        if !(1..=MAX_ORDER).contains(&self.estimation.max_order) {
            return Err(ConfigError::invalid(
                format!(
                    "[estimation] max_order must be a whole number from 1 to {MAX_ORDER} (1: lists independent; 2: pairs of lists), not {}",
                    self.estimation.max_order
                ),
                format!(
                    "[estimation] max_order debe ser un número entero de 1 a {MAX_ORDER} (1: listas independientes; 2: pares de listas), no {}",
                    self.estimation.max_order
                ),
            ));
        }
        for s in &self.estimation.strata {
            if !STRATUM_KEYS.contains(&s.as_str()) {
                let keys = STRATUM_KEYS.join(", ");
                return Err(ConfigError::invalid(
                    format!("[estimation] strata: '{s}' is not one of {keys}"),
                    format!("[estimation] strata: '{s}' no es uno de {keys}"),
                ));
            }
        }
        Ok(())
    }
}

impl EstimationConfig {
    /// The latent-class sampler's settings.
    pub fn sampler(&self) -> SamplerSettings {
        SamplerSettings {
            sweeps: self.lcmcr_sweeps,
            classes: self.lcmcr_classes,
            chains: self.lcmcr_chains,
            burn_in: self.lcmcr_burn_in,
        }
    }
}

/// The settings of the latent-class model's sampler a user may change, from `recuento.toml`
/// or the command line; unset ones keep the sampler's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SamplerSettings {
    /// Sweeps kept per chain after burn-in (at least; the chains go on while they have too few
    /// effective draws).
    pub sweeps: Option<usize>,
    /// Most latent classes, the truncation K of the stick-breaking prior.
    pub classes: Option<usize>,
    /// Chains, run in parallel.
    pub chains: Option<usize>,
    /// Burn-in sweeps per chain.
    pub burn_in: Option<usize>,
}

impl SamplerSettings {
    /// The range each setting may take, in the order sweeps, classes, chains, burn-in: a run
    /// short enough to mean something and long enough to finish; at most 100 classes (LCMCR's
    /// users take 5 to 50) and 64 chains.
    pub const RANGES: [(usize, usize); 4] = [
        (1_000, 100_000_000),
        (1, 100),
        (1, 64),
        (1_000, 100_000_000),
    ];

    /// Whether any setting is given.
    pub fn any(&self) -> bool {
        self.values().iter().any(Option::is_some)
    }

    fn values(&self) -> [Option<usize>; 4] {
        [self.sweeps, self.classes, self.chains, self.burn_in]
    }

    /// Refuses a setting outside its range, calling the four settings by `names` (as the user
    /// wrote them: `--sweeps` on the command line, `[estimation] lcmcr_sweeps` in the file).
    ///
    /// # Errors
    /// The first setting outside its range, with the range, in English and Spanish.
    pub fn check(&self, names: [&str; 4]) -> Result<(), ConfigError> {
        for ((value, (lo, hi)), name) in self.values().into_iter().zip(Self::RANGES).zip(names) {
            if let Some(v) = value
                && !(lo..=hi).contains(&v)
            {
                return Err(ConfigError::invalid(
                    format!("{name} must be between {lo} and {hi}, not {v}"),
                    format!("{name} debe estar entre {lo} y {hi}, no {v}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[project]
name = "prueba"

[[lists]]
name = "ong"
file = "ong.csv"
[lists.columns]
full_name = "Nombre completo"
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = ProjectConfig::from_toml(MINIMAL).unwrap();
        assert_eq!(c.lists.len(), 1);
        assert_eq!(c.lists[0].encoding, "auto");
        assert_eq!(c.linkage.blocking, default_blocking());
        assert_eq!(c.estimation.max_order, 2);
        assert_eq!(c.project.seed, 1);
    }

    #[test]
    fn unknown_field_is_named() {
        let bad = MINIMAL.replace("full_name", "fullname");
        let err = ProjectConfig::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("unknown field 'fullname'"), "{err}");
    }

    #[test]
    fn duplicate_list_names_are_refused() {
        let text = format!("{MINIMAL}\n[[lists]]\nname = \"ong\"\nfile = \"b.csv\"\n");
        let err = ProjectConfig::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("two lists are called 'ong'"), "{err}");
    }

    #[test]
    fn estimation_settings_are_checked() {
        let with = |extra: &str| {
            ProjectConfig::from_toml(&format!("{MINIMAL}\n[estimation]\n{extra}\n"))
                .map_err(|e| e.to_string())
        };
        let c = with("model = \"independence\"\ndga_delta = 0.5").unwrap();
        assert_eq!(c.estimation.model.as_deref(), Some("independence"));
        assert!(c.estimation.dga);
        let err = with("model = \"ong:prensa\"").unwrap_err();
        assert!(
            err.contains("'prensa' is not one of the lists (ong)"),
            "{err}"
        );
        let err = with("dga_delta = 0").unwrap_err();
        assert!(err.contains("dga_delta must be a positive number"), "{err}");
        // Up to five, as Rcapture allows every order short of the saturated model.
        assert_eq!(with("max_order = 4").unwrap().estimation.max_order, 4);
        for bad in ["max_order = 0", "max_order = 6"] {
            let err = with(bad).unwrap_err();
            assert!(
                err.contains("max_order must be a whole number from 1 to 5"),
                "{err}"
            );
        }
        assert_eq!(
            with("lcmcr_sweeps = 200000")
                .unwrap()
                .estimation
                .lcmcr_sweeps,
            Some(200_000)
        );
        let err = with("lcmcr_sweeps = 10").unwrap_err();
        assert!(err.contains("lcmcr_sweeps must be between"), "{err}");
        let c = with("lcmcr_classes = 5\nlcmcr_chains = 4\nlcmcr_burn_in = 20000").unwrap();
        assert_eq!(
            c.estimation.sampler(),
            SamplerSettings {
                sweeps: None,
                classes: Some(5),
                chains: Some(4),
                burn_in: Some(20_000),
            }
        );
        for (setting, range) in [
            (
                "lcmcr_classes = 0",
                "lcmcr_classes must be between 1 and 100, not 0",
            ),
            (
                "lcmcr_chains = 65",
                "lcmcr_chains must be between 1 and 64, not 65",
            ),
            (
                "lcmcr_burn_in = 10",
                "lcmcr_burn_in must be between 1000 and 100000000",
            ),
        ] {
            let err = with(setting).unwrap_err();
            assert!(err.contains(range), "{err}");
        }
    }

    #[test]
    fn bad_toml_names_a_line() {
        let err = ProjectConfig::from_toml("[project\nname=1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
