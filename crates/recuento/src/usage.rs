//! Mistakes on the command line, said in Spanish too. clap writes its messages in English
//! only, and the documentation teams who type the commands read Spanish: each mistake clap
//! reports gets a Spanish sentence built from what clap found (the option, the value, the
//! suggestion), printed under clap's own message.

use clap::error::{ContextKind, ErrorKind};

/// The Spanish of a command-line mistake, or `None` when clap is showing help or the version,
/// which are not mistakes.
#[must_use]
pub fn spanish(e: &clap::Error) -> Option<String> {
    let context = |kind: ContextKind| {
        e.get(kind)
            .map(ToString::to_string)
            .filter(|s| !s.is_empty())
    };
    let arg = context(ContextKind::InvalidArg).unwrap_or_default();
    let value = context(ContextKind::InvalidValue).unwrap_or_default();
    let subcommand = context(ContextKind::InvalidSubcommand).unwrap_or_default();
    let mut message = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        ErrorKind::UnknownArgument => {
            format!("la opción o el argumento '{arg}' no existe en esta orden")
        }
        ErrorKind::InvalidSubcommand => format!("la orden '{subcommand}' no existe"),
        ErrorKind::MissingSubcommand => format!(
            "falta la orden (por ejemplo: {})",
            context(ContextKind::ValidSubcommand).unwrap_or_default()
        ),
        ErrorKind::MissingRequiredArgument if arg.contains(", ") => {
            format!("faltan estos argumentos obligatorios: {arg}")
        }
        ErrorKind::MissingRequiredArgument => format!("falta un argumento obligatorio: {arg}"),
        ErrorKind::InvalidValue if value.is_empty() => {
            format!("{arg} necesita un valor")
        }
        ErrorKind::InvalidValue => {
            let valid = context(ContextKind::ValidValue)
                .map(|v| format!("; valores posibles: {v}"))
                .unwrap_or_default();
            format!("'{value}' no es un valor válido de {arg}{valid}")
        }
        ErrorKind::ValueValidation => {
            let source = std::error::Error::source(e).map(ToString::to_string);
            format!(
                "'{value}' no es un valor válido de {arg}{}",
                source.as_deref().map(reason_es).unwrap_or_default()
            )
        }
        ErrorKind::ArgumentConflict => {
            let other = context(ContextKind::PriorArg).unwrap_or_default();
            let what = if arg.is_empty() { &subcommand } else { &arg };
            if *what == other {
                format!("{what} no se puede dar más de una vez")
            } else {
                format!("{what} no se puede usar junto con {other}")
            }
        }
        ErrorKind::TooManyValues => format!("a {arg} le sobra el valor '{value}'"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("{arg} no lleva el número de valores que necesita")
        }
        ErrorKind::NoEquals => format!("{arg} necesita su valor tras un signo igual (=)"),
        ErrorKind::InvalidUtf8 => {
            "un argumento tiene caracteres que no son texto válido (UTF-8)".to_string()
        }
        _ => "la orden no se entendió".to_string(),
    };
    message.push('.');
    // clap's suggestion, for an option or an order that is almost right.
    if let Some(s) = context(ContextKind::SuggestedArg)
        .or_else(|| context(ContextKind::SuggestedSubcommand))
        .or_else(|| context(ContextKind::SuggestedValue))
    {
        message.push_str(&format!(" ¿Quiso decir '{s}'?"));
    }
    message.push_str(" Para ver las opciones: recuento --help, o recuento <orden> --help");
    Some(message)
}

/// The Spanish of why a number was not read (the standard library's messages, which clap
/// passes on), in parentheses; nothing for any other reason.
fn reason_es(reason: &str) -> String {
    // clap's range check: "0 is not in 1..=5".
    if let Some((_, range)) = reason.split_once(" is not in ")
        && let Some((low, high)) = range.split_once("..=")
    {
        return format!(" (debe ser un número de {low} a {high})");
    }
    let es = match reason {
        "invalid digit found in string" => "se esperaba un número entero, sin letras ni signos",
        "invalid float literal" => "se esperaba un número (con punto decimal: 0.5)",
        "number too large to fit in target type" => "el número es demasiado grande",
        "number too small to fit in target type" => "el número es demasiado pequeño",
        "cannot parse integer from empty string" | "cannot parse float from empty string" => {
            "está vacío"
        }
        _ => return String::new(),
    };
    format!(" ({es})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn command() -> Command {
        Command::new("recuento").subcommand(
            Command::new("estimate")
                .arg(
                    Arg::new("sweeps")
                        .long("sweeps")
                        .value_parser(clap::value_parser!(u64)),
                )
                .arg(
                    Arg::new("criterion")
                        .long("criterion")
                        .value_parser(["aic", "bic"]),
                ),
        )
    }

    fn spanish_of(args: &[&str]) -> Option<String> {
        spanish(&command().try_get_matches_from(args).unwrap_err())
    }

    #[test]
    fn each_mistake_is_said_in_spanish_with_what_clap_found() {
        let s = spanish_of(&["recuento", "estimat"]).unwrap();
        assert!(
            s.starts_with("la orden 'estimat' no existe. ¿Quiso decir 'estimate'? Para ver"),
            "{s}"
        );
        let s = spanish_of(&["recuento", "estimate", "--sweps", "3"]).unwrap();
        assert!(
            s.contains("'--sweps' no existe") && s.contains("¿Quiso decir '--sweeps'?"),
            "{s}"
        );
        let s = spanish_of(&["recuento", "estimate", "--sweeps", "diez"]).unwrap();
        assert!(
            s.contains(
                "'diez' no es un valor válido de --sweeps <sweeps> (se esperaba un número entero"
            ),
            "{s}"
        );
        let s = spanish_of(&["recuento", "estimate", "--criterion", "aicc"]).unwrap();
        assert!(s.contains("valores posibles: aic, bic"), "{s}");
        assert!(s.ends_with("recuento <orden> --help"), "{s}");
        // Help is not a mistake.
        assert_eq!(spanish_of(&["recuento", "--help"]), None);
    }
}
