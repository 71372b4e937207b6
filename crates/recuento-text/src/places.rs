//! Places and detention facilities.

use crate::fold;

/// Words that name the kind of facility rather than which one (`Centro Penal de ...`).
const GENERIC: &[&str] = &[
    "centro",
    "penal",
    "penitenciario",
    "penitenciaria",
    "carcel",
    "prision",
    "de",
    "del",
    "la",
    "el",
    "cp",
    "reclusorio",
    "granja",
    "sector",
];

/// Known facilities of El Salvador: (key, words any of which identifies it). Facilities
/// elsewhere fall back to their folded name without generic words, which still matches across
/// lists that write them alike.
const FACILITIES: &[(&str, &[&str])] = &[
    ("la esperanza", &["mariona", "esperanza"]),
    ("izalco", &["izalco"]),
    ("zacatecoluca", &["zacatecoluca", "zacatraz"]),
    ("apanteos", &["apanteos"]),
    ("quezaltepeque", &["quezaltepeque"]),
    ("cecot", &["cecot", "terrorismo", "tecoluca"]),
    ("bartolinas", &["bartolinas", "bartolina", "pnc"]),
    ("hospital rosales", &["rosales"]),
];

/// The comparison key of a facility name: `Centro Penal La Esperanza (Mariona)` and `MARIONA`
/// both give `la esperanza`. `None` for blank input.
pub fn facility_key(s: &str) -> Option<String> {
    let f = fold(s);
    if f.is_empty() {
        return None;
    }
    for (key, words) in FACILITIES {
        if f.split(' ').any(|w| words.contains(&w)) {
            return Some((*key).to_string());
        }
    }
    let rest: Vec<&str> = f.split(' ').filter(|w| !GENERIC.contains(w)).collect();
    Some(if rest.is_empty() { f } else { rest.join(" ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_names_agree_across_lists() {
        assert_eq!(
            facility_key("Centro Penal La Esperanza (Mariona)").unwrap(),
            "la esperanza"
        );
        assert_eq!(facility_key("MARIONA").unwrap(), "la esperanza");
        assert_eq!(
            facility_key("Centro de Confinamiento del Terrorismo (CECOT)").unwrap(),
            "cecot"
        );
        assert_eq!(facility_key("Centro Penal de Izalco").unwrap(), "izalco");
        assert_eq!(facility_key("Cárcel de Tocorón").unwrap(), "tocoron");
        assert_eq!(facility_key("  "), None);
    }
}
