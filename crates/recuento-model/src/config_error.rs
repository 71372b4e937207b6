//! Why a settings file could not be used, in words a documentation worker understands, in
//! English and in Spanish: where (line, column, section and key) and what is wrong.
//!
//! The TOML reader reports errors in serde's words (`invalid type: string "alto", expected
//! f64`); the people who edit `recuento.toml` are not programmers, so those are rewritten here.

/// Why a settings file (`recuento.toml`, or the settings of `recuento link-files`) could not be
/// used. Each carries the English and the Spanish (empty where only English is written); the
/// caller adds the file's name with [`ConfigError::in_file`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML, or a key has the wrong type or an unknown name; the message
    /// names the line, the column, the section and the key.
    #[error("{}", both(en, es))]
    Toml {
        /// In English.
        en: String,
        /// In Spanish.
        es: String,
    },
    /// The TOML is valid but the settings contradict themselves or name unknown things.
    #[error("{}", both(en, es))]
    Invalid {
        /// In English.
        en: String,
        /// In Spanish.
        es: String,
    },
}

fn both(en: &str, es: &str) -> String {
    if es.is_empty() {
        en.to_string()
    } else {
        format!("{en}\nEn español: {es}")
    }
}

impl ConfigError {
    /// A setting that is wrong, in both languages.
    pub fn invalid(en: impl Into<String>, es: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            en: en.into(),
            es: es.into(),
        }
    }

    /// The reader's error on `text`, rewritten: line, column, section, key and what is wrong.
    pub fn toml(text: &str, error: &toml::de::Error) -> ConfigError {
        let (en, es) = describe(text, error);
        ConfigError::Toml { en, es }
    }

    /// The message with the file's name in front of each language.
    pub fn in_file(&self, file: &str) -> String {
        let (ConfigError::Toml { en, es } | ConfigError::Invalid { en, es }) = self;
        if es.is_empty() {
            format!("{file}: {en}")
        } else {
            format!("{file}: {en}\nEn español: {file}: {es}")
        }
    }
}

/// Spanish words a user may write for a setting, and the setting's name.
const SPANISH_KEYS: [(&str, &str); 22] = [
    ("proyecto", "project"),
    ("nombre", "name"),
    ("semilla", "seed"),
    ("listas", "lists"),
    ("lista", "lists"),
    ("archivo", "file"),
    ("fichero", "file"),
    ("organizacion", "organisation"),
    ("organización", "organisation"),
    ("periodo", "period"),
    ("período", "period"),
    ("codificacion", "encoding"),
    ("codificación", "encoding"),
    ("separador", "delimiter"),
    ("hoja", "sheet"),
    ("columnas", "columns"),
    ("vinculacion", "linkage"),
    ("vinculación", "linkage"),
    ("umbral", "threshold"),
    ("estimacion", "estimation"),
    ("estimación", "estimation"),
    ("estratos", "strata"),
];

/// Where the error is and what it says, in English and in Spanish.
fn describe(text: &str, error: &toml::de::Error) -> (String, String) {
    let message = error.message().trim();
    let span = error.span().filter(|s| s.start <= text.len());
    let found = span
        .clone()
        .and_then(|s| text.get(s))
        .unwrap_or("")
        .trim()
        .to_string();
    let (en, es) = what(message, &found);
    let Some(span) = span else {
        return (en, es);
    };
    let before = &text[..span.start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..span.start].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let section = before
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with('['))
        .map(|l| l.split('#').next().unwrap_or(l).trim().to_string());
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('[') && !k.starts_with('#'));
    let mut place_en = format!("line {line}, column {column}");
    let mut place_es = format!("línea {line}, columna {column}");
    // An error on a section's own header ("[estimacion]") is about the file's top level, not
    // about the section before it.
    let section = section.filter(|_| !line_text.trim_start().starts_with('['));
    let setting = match (&section, key) {
        (Some(s), Some(k)) => Some(format!("{s} {k}")),
        (Some(s), None) => Some(s.clone()),
        (None, Some(k)) => Some(k.to_string()),
        (None, None) => None,
    };
    if let Some(setting) = setting {
        place_en.push_str(&format!(" ({setting})"));
        place_es.push_str(&format!(" ({setting})"));
    }
    // The line itself, so that the worker sees what the reader saw.
    let shown = format!("\n    {}", line_text.trim_end());
    (
        format!("{place_en}: {en}{shown}"),
        format!("{place_es}: {es}{shown}"),
    )
}

/// The reader's message in plain words. `found` is the text the error points at.
fn what(message: &str, found: &str) -> (String, String) {
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        && let Some((got, expected)) = rest.rsplit_once(", expected ")
    {
        let (want_en, want_es) = expected_words(expected);
        let (got_en, got_es) = found_words(got, found);
        return (
            format!("expected {want_en}, found {got_en}"),
            format!("se esperaba {want_es}, y hay {got_es}"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let list = known.join(", ");
        let (hint_en, hint_es) = match suggestion(name, &known) {
            Some(s) => (
                format!(" (did you mean '{s}'?)"),
                format!(" (¿quería decir '{s}'?)"),
            ),
            None => (String::new(), String::new()),
        };
        return (
            format!(
                "'{name}' is not a setting here{hint_en}; the settings here are: {list}. Setting names are in English, as in docs/configuration.md"
            ),
            format!(
                "'{name}' no es un ajuste de esta sección{hint_es}; los ajustes son: {list}. Los nombres de los ajustes van en inglés, como en docs/configuration.md"
            ),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let list = backticked(expected).join(", ");
        return (
            format!("'{value}' is not one of the values allowed here: {list}"),
            format!("'{value}' no es uno de los valores admitidos aquí: {list}"),
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return (
            format!("the setting '{name}' is missing"),
            format!("falta el ajuste '{name}'"),
        );
    }
    if message.starts_with("duplicate key") {
        return (
            format!("'{found}' is given twice in this section; keep one"),
            format!("'{found}' aparece dos veces en esta sección; deje uno"),
        );
    }
    let bare_word = !found.is_empty()
        && found.chars().all(|c| c.is_alphanumeric() || c == '_')
        && found.chars().any(char::is_alphabetic)
        && !found.starts_with(|c: char| c.is_ascii_digit());
    if message.starts_with("string values must be quoted")
        || (message.starts_with("invalid float") && bare_word)
    {
        return (
            format!(
                "text must be written in double quotes: \"{found}\" (true and false are written without quotes)"
            ),
            format!(
                "el texto se escribe entre comillas dobles: \"{found}\" (true y false se escriben sin comillas)"
            ),
        );
    }
    (
        format!("this is not valid TOML here ({message}); see docs/configuration.md"),
        format!("esto no es TOML válido aquí ({message}); vea docs/configuration.md"),
    )
}

/// What the setting takes, from serde's name of the type.
fn expected_words(expected: &str) -> (String, String) {
    let words = match expected {
        "f64" | "f32" => ("a number (such as 0.9)", "un número (como 0.9)"),
        "usize" | "u64" | "u32" | "u16" | "u8" => (
            "a whole number, 0 or more (such as 2)",
            "un número entero, 0 o más (como 2)",
        ),
        "i64" | "i32" => ("a whole number (such as 2)", "un número entero (como 2)"),
        "a boolean" => (
            "true or false, without quotes",
            "true o false, sin comillas",
        ),
        "a string" => ("text in double quotes", "un texto entre comillas dobles"),
        "a sequence" => (
            "a list in square brackets, such as [\"sex\", \"facility\"]",
            "una lista entre corchetes, como [\"sex\", \"facility\"]",
        ),
        e if e == "a map" || e.starts_with("struct ") => {
            ("a section of settings", "una sección de ajustes")
        }
        other => return (other.to_string(), other.to_string()),
    };
    (words.0.to_string(), words.1.to_string())
}

/// What the user wrote, from serde's description of the value.
fn found_words(got: &str, found: &str) -> (String, String) {
    if let Some(s) = got.strip_prefix("string ") {
        return (format!("the text {s}"), format!("el texto {s}"));
    }
    for (prefix, en, es) in [
        ("floating point ", "the number", "el número"),
        ("integer ", "the number", "el número"),
        ("boolean ", "", ""),
    ] {
        if let Some(v) = got.strip_prefix(prefix) {
            let v = v.trim_matches('`');
            return if en.is_empty() {
                (v.to_string(), v.to_string())
            } else {
                (format!("{en} {v}"), format!("{es} {v}"))
            };
        }
    }
    match got {
        "sequence" => (format!("a list {found}"), format!("una lista {found}")),
        "map" => ("a section".into(), "una sección".into()),
        other => (other.to_string(), other.to_string()),
    }
}

/// The names between backticks in serde's "expected one of `a`, `b`".
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The known setting a misspelt or Spanish name most likely means.
fn suggestion<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    if let Some((_, english)) = SPANISH_KEYS.iter().find(|(es, _)| *es == lower)
        && let Some(k) = known.iter().find(|k| *k == english)
    {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3 + 1))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ConfigError {
        let e = toml::from_str::<crate::ProjectConfig>(text).unwrap_err();
        ConfigError::toml(text, &e)
    }

    const BASE: &str = "[project]\nname = \"prueba\"\nseed = 1\n\n[[lists]]\nname = \"ong\"\nfile = \"a.csv\"\nno_duplicates = false\n\n[linkage]\nthreshold = 0.9\n\n[estimation]\nmax_order = 2\n";

    fn both_languages(e: &ConfigError) -> (String, String) {
        match e {
            ConfigError::Toml { en, es } | ConfigError::Invalid { en, es } => {
                (en.clone(), es.clone())
            }
        }
    }

    #[test]
    fn a_value_of_the_wrong_kind_names_line_column_setting_and_both_kinds() {
        let text = BASE.replace("threshold = 0.9", "threshold = \"alto\"");
        let (en, es) = both_languages(&error(&text));
        assert!(
            en.starts_with(
                "line 11, column 13 ([linkage] threshold): expected a number (such as 0.9), found the text \"alto\""
            ),
            "{en}"
        );
        assert!(en.ends_with("\n    threshold = \"alto\""), "{en}");
        assert!(
            es.starts_with(
                "línea 11, columna 13 ([linkage] threshold): se esperaba un número (como 0.9), y hay el texto \"alto\""
            ),
            "{es}"
        );
        let (en, _) = both_languages(&error(&BASE.replace("max_order = 2", "max_order = 2.5")));
        assert!(
            en.contains("expected a whole number, 0 or more (such as 2), found the number 2.5"),
            "{en}"
        );
        let (en, _) = both_languages(&error(&BASE.replace("max_order = 2", "max_order = -1")));
        assert!(en.contains("found the number -1"), "{en}");
    }

    #[test]
    fn a_misspelt_or_spanish_setting_gets_the_setting_it_most_likely_means() {
        let (en, es) = both_languages(&error(&BASE.replace("max_order", "max_orden")));
        assert!(
            en.contains("'max_orden' is not a setting here (did you mean 'max_order'?)"),
            "{en}"
        );
        assert!(es.contains("(¿quería decir 'max_order'?)"), "{es}");
        let (en, _) = both_languages(&error(&BASE.replace("[estimation]", "[estimacion]")));
        assert!(
            en.starts_with(
                "line 13, column 2: 'estimacion' is not a setting here (did you mean 'estimation'?)"
            ),
            "{en}"
        );
        let (en, _) = both_languages(&error(&BASE.replace("file =", "archivo =")));
        assert!(en.contains("(did you mean 'file'?)"), "{en}");
        assert!(
            en.starts_with("line 7, column 1 ([[lists]] archivo)"),
            "{en}"
        );
        // Nothing close: no guess, but the settings of the section.
        let (en, _) = both_languages(&error(&BASE.replace("max_order", "zzz")));
        assert!(!en.contains("did you mean"), "{en}");
        assert!(
            en.contains("the settings here are: max_order, criterion"),
            "{en}"
        );
    }

    #[test]
    fn unquoted_text_repeated_keys_and_bad_choices_are_said_plainly() {
        let (en, es) = both_languages(&error(
            &BASE.replace("no_duplicates = false", "no_duplicates = no"),
        ));
        assert!(
            en.contains("text must be written in double quotes: \"no\""),
            "{en}"
        );
        assert!(es.contains("true y false se escriben sin comillas"), "{es}");
        let (en, _) = both_languages(&error(&BASE.replace("seed = 1", "seed = 1\nseed = 2")));
        assert!(en.contains("'seed' is given twice in this section"), "{en}");
        let (en, _) = both_languages(&error(
            &BASE.replace("no_duplicates = false", "date_order = \"dd/mm\""),
        ));
        assert!(
            en.contains("'dd/mm' is not one of the values allowed here: dmy, mdy"),
            "{en}"
        );
        let (en, _) = both_languages(&error(&BASE.replace("name = \"prueba\"\n", "")));
        assert!(en.contains("the setting 'name' is missing"), "{en}");
    }

    #[test]
    fn the_file_name_goes_in_front_of_each_language() {
        let e = ConfigError::invalid("x is wrong", "x está mal");
        assert_eq!(
            e.in_file("p/recuento.toml"),
            "p/recuento.toml: x is wrong\nEn español: p/recuento.toml: x está mal"
        );
        assert_eq!(e.to_string(), "x is wrong\nEn español: x está mal");
    }
}
