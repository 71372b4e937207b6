//! Settings of the generic linker (`recuento link-files`): any columns, any comparisons, any
//! blocking rules, for lists that are not in the victim-list format (FEBRL, a census extract, a
//! hospital register).
//!
//! Written as TOML by a person, or saved as JSON next to a trained model. The victim-list preset of
//! `recuento.toml` projects does not use these settings; it has its own standardisation.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Which pairs of records may refer to the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// One list: find its internal duplicates.
    DedupeOnly,
    /// Several lists, each free of internal duplicates: pairs only across lists.
    LinkOnly,
    /// Several lists, each with internal duplicates: pairs within and across lists (the normal
    /// case for victim lists).
    #[default]
    LinkAndDedupe,
}

/// How linked pairs become people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusteringMethod {
    /// Every chain of links is one person (fast; a single false link merges two people).
    ConnectedComponents,
    /// Links are taken strongest first, and two groups of records are merged only when at least
    /// half of the record pairs between them are linked: a lone weak bridge does not chain two
    /// people into one. Never puts two records of a list declared free of duplicates together.
    #[default]
    NoChaining,
}

/// How a comparison decides its levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Equal or different.
    Exact,
    /// Jaro–Winkler similarity at or above each threshold (e.g. `[0.92, 0.8]`).
    JaroWinkler,
    /// Jaro similarity at or above each threshold.
    Jaro,
    /// Levenshtein distance at or below each threshold (e.g. `[1, 2]`).
    Levenshtein,
    /// Damerau–Levenshtein distance (a transposition is one edit) at or below each threshold.
    DamerauLevenshtein,
    /// Dates compared at the precision both sides have: exact, day and month swapped or one digit
    /// off, within 31 days, same month or year, within a year. Values are read as dates in any
    /// format recuento's importer knows (`1956-04-09`, `19560409`, `9/4/1956`, `abril 1956`).
    /// With three columns — birth date, age, date the age refers to (`["birth_date", "age",
    /// "event_date"]`) — a record without a birth date gets the birth year its age implies, so
    /// an age on one list is compared with a birth date on another (at year precision).
    Date,
    /// Ages as written (`34`, `34 años`): equal, one year apart, two years apart, different.
    Age,
    /// National IDs: equal, one typo apart, different.
    NationalId,
    /// Spanish given names: all equal, same first name with nicknames resolved, Jaro–Winkler.
    SpanishGivenNames,
    /// Spanish surnames (two columns, paternal and maternal): both equal, swapped, one missing,
    /// concatenated, similar.
    SpanishSurnames,
}

impl Method {
    /// Whether the method takes thresholds.
    pub fn takes_thresholds(self) -> bool {
        matches!(
            self,
            Method::JaroWinkler | Method::Jaro | Method::Levenshtein | Method::DamerauLevenshtein
        )
    }
}

/// One `[[comparisons]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonSpec {
    /// Name in outputs (`mw_<name>` in `pairs.parquet`); defaults to the first column.
    #[serde(default)]
    pub name: String,
    /// The column compared (two for `spanish_surnames`: paternal, maternal).
    pub columns: Vec<String>,
    /// How levels are decided.
    pub method: Method,
    /// Similarity thresholds (Jaro, Jaro–Winkler; highest first) or distances (Levenshtein,
    /// Damerau–Levenshtein; smallest first). One level per threshold, between `exact` and
    /// `different`.
    #[serde(default)]
    pub thresholds: Vec<f64>,
    /// Term-frequency adjustment: agreeing on a common value (a frequent surname) is weaker
    /// evidence than agreeing on a rare one.
    #[serde(default)]
    pub term_frequency: bool,
    /// Compare lower-cased values without accents or punctuation (`Núñez` = `nunez`).
    #[serde(default = "yes")]
    pub fold: bool,
}

fn yes() -> bool {
    true
}

/// The whole settings file of the generic linker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSettings {
    /// Which pairs may match.
    #[serde(default)]
    pub link_type: LinkType,
    /// The column holding each record's identifier within its list.
    pub unique_id_column: String,
    /// A column naming each record's list; when absent, each input file is one list named after
    /// the file.
    #[serde(default)]
    pub source_column: Option<String>,
    /// Comparisons, in output order.
    pub comparisons: Vec<ComparisonSpec>,
    /// Blocking rules, OR-ed. Each rule is a list of conditions that must all hold: a column
    /// (`surname`), an SQL expression over columns (`substr(surname, 1, 3)`), `left = right`
    /// for different expressions on the two sides, or a condition over both records written
    /// with `l.` and `r.` (`l.dob IS NULL OR r.dob IS NULL`), checked on the pairs the other
    /// conditions find.
    pub blocking_rules: Vec<Vec<String>>,
    /// Pairs at or above this match probability are linked.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// How linked pairs become people.
    #[serde(default)]
    pub clustering: ClusteringMethod,
    /// Lists known to hold each person at most once (never two of their records in one person).
    #[serde(default)]
    pub no_duplicates: Vec<String>,
    /// Random record pairs drawn to estimate u.
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: usize,
    /// Maximum EM iterations per training rule.
    #[serde(default = "default_em")]
    pub max_em_iterations: usize,
    /// Largest block a rule may make before it is refused.
    #[serde(default = "default_block")]
    pub max_block_size: usize,
    /// Seed of every random draw.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_threshold() -> f64 {
    0.9
}
fn default_u_pairs() -> usize {
    1_000_000
}
fn default_em() -> usize {
    1000
}
fn default_block() -> usize {
    20_000
}
fn default_seed() -> u64 {
    1
}

impl LinkSettings {
    /// Parses settings from TOML and checks them. (A saved model holds the settings as JSON: the
    /// caller deserialises them and calls [`LinkSettings::complete_and_check`].)
    ///
    /// # Errors
    /// Syntax errors (with the line), unknown keys, comparisons without columns, thresholds that
    /// do not fit the method.
    pub fn parse_toml(text: &str) -> Result<LinkSettings, ConfigError> {
        let mut s: LinkSettings = toml::from_str(text).map_err(|e| ConfigError::toml(text, &e))?;
        s.complete_and_check()?;
        Ok(s)
    }

    /// Fills default names and checks the settings.
    ///
    /// # Errors
    /// See [`LinkSettings::parse_toml`].
    pub fn complete_and_check(&mut self) -> Result<(), ConfigError> {
        // Said in English and in Spanish: documentation teams write these files too.
        let bad = |en: String, es: String| Err(ConfigError::invalid(en, es));
        if self.unique_id_column.trim().is_empty() {
            return bad(
                "unique_id_column must name the column of record identifiers".into(),
                "unique_id_column debe nombrar la columna de los identificadores de registro"
                    .into(),
            );
        }
        if self.comparisons.is_empty() {
            return bad(
                "at least one [[comparisons]] is needed".into(),
                "hace falta al menos una [[comparisons]]".into(),
            );
        }
        if self.blocking_rules.is_empty() || self.blocking_rules.iter().any(Vec::is_empty) {
            return bad(
                "blocking_rules needs at least one rule, and no rule may be empty".into(),
                "blocking_rules necesita al menos una regla, y ninguna regla puede estar vacía"
                    .into(),
            );
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return bad(
                format!(
                    "threshold must be a match probability between 0 and 1, not {}",
                    self.threshold
                ),
                format!(
                    "threshold debe ser una probabilidad de coincidencia entre 0 y 1, no {}",
                    self.threshold
                ),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, c) in self.comparisons.iter_mut().enumerate() {
            let want: &[usize] = match c.method {
                Method::SpanishSurnames => &[2],
                Method::Date => &[1, 3],
                _ => &[1],
            };
            if !want.contains(&c.columns.len()) {
                let want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
                return bad(
                    format!(
                        "comparison {} ({:?}) needs {} column(s) in `columns`, not {}",
                        i + 1,
                        c.method,
                        want.join(" or "),
                        c.columns.len()
                    ),
                    format!(
                        "la comparación {} ({:?}) necesita {} columna(s) en `columns`, no {}",
                        i + 1,
                        c.method,
                        want.join(" o "),
                        c.columns.len()
                    ),
                );
            }
            if c.name.is_empty() {
                c.name = c.columns[0].clone();
            }
            if !c
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return bad(
                    format!(
                        "comparison name '{}' must be letters, digits or '_'",
                        c.name
                    ),
                    format!(
                        "el nombre de comparación '{}' solo puede llevar letras sin acento, cifras o '_'",
                        c.name
                    ),
                );
            }
            if !names.insert(c.name.clone()) {
                return bad(
                    format!("two comparisons are called '{}'", c.name),
                    format!("dos comparaciones se llaman '{}'", c.name),
                );
            }
            if c.method.takes_thresholds() {
                if c.thresholds.is_empty() || c.thresholds.len() > 4 {
                    return bad(
                        format!("comparison '{}' needs 1 to 4 thresholds", c.name),
                        format!("la comparación '{}' necesita de 1 a 4 umbrales", c.name),
                    );
                }
                let similarity = matches!(c.method, Method::JaroWinkler | Method::Jaro);
                let ordered = c
                    .thresholds
                    .windows(2)
                    .all(|w| if similarity { w[0] > w[1] } else { w[0] < w[1] });
                let in_range = c.thresholds.iter().all(|t| {
                    if similarity {
                        *t > 0.0 && *t < 1.0
                    } else {
                        *t >= 1.0 && t.fract() == 0.0
                    }
                });
                if !ordered || !in_range {
                    let (en, es) = if similarity {
                        (
                            "similarities between 0 and 1, highest first",
                            "similitudes entre 0 y 1, de mayor a menor",
                        )
                    } else {
                        (
                            "whole numbers of edits, smallest first",
                            "números enteros de ediciones, de menor a mayor",
                        )
                    };
                    return bad(
                        format!(
                            "comparison '{}': thresholds {:?} must be {en}",
                            c.name, c.thresholds
                        ),
                        format!(
                            "comparación '{}': los umbrales {:?} deben ser {es}",
                            c.name, c.thresholds
                        ),
                    );
                }
            } else if !c.thresholds.is_empty() {
                return bad(
                    format!(
                        "comparison '{}': method {:?} takes no thresholds",
                        c.name, c.method
                    ),
                    format!(
                        "comparación '{}': el método {:?} no lleva umbrales",
                        c.name, c.method
                    ),
                );
            }
        }
        if self.link_type == LinkType::DedupeOnly && !self.no_duplicates.is_empty() {
            return bad(
                "no_duplicates makes no sense with link_type = \"dedupe_only\"".into(),
                "no_duplicates no tiene sentido con link_type = \"dedupe_only\"".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEBRL: &str = r#"
link_type = "dedupe_only"
unique_id_column = "rec_id"
blocking_rules = [["given_name", "surname"], ["substr(surname, 1, 3)", "date_of_birth"]]

[[comparisons]]
columns = ["given_name"]
method = "jaro_winkler"
thresholds = [0.92, 0.8]
term_frequency = true

[[comparisons]]
columns = ["date_of_birth"]
method = "damerau_levenshtein"
thresholds = [1, 2]
"#;

    #[test]
    fn febrl_settings_parse() {
        let s = LinkSettings::parse_toml(FEBRL).unwrap();
        assert_eq!(s.comparisons[0].name, "given_name");
        assert!(s.comparisons[0].fold);
        assert_eq!(s.link_type, LinkType::DedupeOnly);
        assert_eq!(s.clustering, ClusteringMethod::NoChaining);
        assert_eq!(s.comparisons[1].thresholds, [1.0, 2.0]);
    }

    #[test]
    fn ages_and_birth_dates_from_ages_are_accepted() {
        let text = format!(
            "{FEBRL}\n[[comparisons]]\ncolumns = [\"age\"]\nmethod = \"age\"\n\n[[comparisons]]\nname = \"birth\"\ncolumns = [\"date_of_birth\", \"age\", \"seen\"]\nmethod = \"date\"\n"
        );
        let s = LinkSettings::parse_toml(&text).unwrap();
        assert_eq!(
            s.comparisons.iter().filter(|c| c.name == "birth").count(),
            1
        );
        let bad = text.replace("\"age\", \"seen\"]", "\"age\"]");
        let err = LinkSettings::parse_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("needs 1 or 3 column(s)"), "{err}");
    }

    #[test]
    fn misordered_thresholds_are_refused() {
        let bad = FEBRL.replace("[0.92, 0.8]", "[0.8, 0.92]");
        let err = LinkSettings::parse_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("highest first"), "{err}");
        assert!(
            err.contains("En español: comparación 'given_name': los umbrales [0.8, 0.92] deben ser similitudes entre 0 y 1, de mayor a menor"),
            "{err}"
        );
    }

    #[test]
    fn unknown_method_names_the_line() {
        let bad = FEBRL.replace("\"jaro_winkler\"", "\"soundex\"");
        let err = LinkSettings::parse_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
    }
}
