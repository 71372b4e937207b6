//! Spanish personal names.
//!
//! Names follow the Hispanic convention: one or more given names, then a first (paternal) and a
//! second (maternal) surname. Surnames may carry particles (`de`, `del`, `de la`, `de los`, `y`),
//! and married women may add `de <husband's surname>`. Lists drop the second surname, keep only
//! the first given name, swap surnames or write nicknames (`Chepe` for José). See `domain.md`.

use crate::fold;

/// A name split into its parts. Every part is folded (see [`crate::fold`]); empty when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitName {
    /// Given names, space separated (`jose luis`).
    pub given: String,
    /// First (paternal) surname, with its particles (`de la cruz`).
    pub surname1: String,
    /// Second (maternal) surname.
    pub surname2: String,
    /// Married surname written as `de X` after a woman's own surnames.
    pub married: String,
    /// Alias written inside the name (`alias el flaco`).
    pub alias: String,
}

const PARTICLES: [&str; 5] = ["de", "del", "la", "las", "los"];

/// Common given names in El Salvador and Venezuela (folded). Used only to decide where given
/// names end when a full name has more than three words; a name missing here still splits
/// reasonably (see [`split_full_name`]).
const GIVEN_NAMES: &[&str] = &[
    "jose",
    "luis",
    "juan",
    "carlos",
    "jorge",
    "jesus",
    "manuel",
    "francisco",
    "antonio",
    "miguel",
    "angel",
    "pedro",
    "pablo",
    "mario",
    "oscar",
    "rafael",
    "ricardo",
    "roberto",
    "alberto",
    "ernesto",
    "guillermo",
    "ignacio",
    "fernando",
    "javier",
    "alejandro",
    "david",
    "daniel",
    "eduardo",
    "enrique",
    "edwin",
    "elmer",
    "walter",
    "william",
    "wilber",
    "wilfredo",
    "santos",
    "salvador",
    "rene",
    "raul",
    "ramon",
    "victor",
    "hugo",
    "nelson",
    "julio",
    "cesar",
    "marvin",
    "kevin",
    "brayan",
    "bryan",
    "jonathan",
    "josue",
    "moises",
    "samuel",
    "isaac",
    "abraham",
    "adolfo",
    "alexander",
    "alexis",
    "andres",
    "armando",
    "arturo",
    "benjamin",
    "cristian",
    "christian",
    "diego",
    "douglas",
    "efrain",
    "elias",
    "emilio",
    "erick",
    "erik",
    "esteban",
    "felipe",
    "gabriel",
    "gerardo",
    "gilberto",
    "gustavo",
    "hector",
    "henry",
    "herbert",
    "ivan",
    "jaime",
    "joaquin",
    "joel",
    "jonas",
    "jose",
    "juan",
    "julian",
    "leonel",
    "lorenzo",
    "marcos",
    "mauricio",
    "nicolas",
    "orlando",
    "osmin",
    "rodrigo",
    "rolando",
    "ruben",
    "sergio",
    "tomas",
    "vicente",
    "yonathan",
    "anderson",
    "jhonny",
    "johan",
    "yorman",
    "yeferson",
    "maria",
    "ana",
    "rosa",
    "carmen",
    "dolores",
    "mercedes",
    "rosario",
    "concepcion",
    "guadalupe",
    "marta",
    "martha",
    "gloria",
    "patricia",
    "sandra",
    "silvia",
    "sonia",
    "teresa",
    "veronica",
    "yolanda",
    "elena",
    "isabel",
    "lucia",
    "laura",
    "claudia",
    "karla",
    "katherine",
    "wendy",
    "jennifer",
    "cecilia",
    "beatriz",
    "blanca",
    "delmy",
    "evelyn",
    "fatima",
    "flor",
    "irma",
    "julia",
    "lidia",
    "marisol",
    "marina",
    "miriam",
    "morena",
    "reina",
    "sara",
    "susana",
    "vilma",
    "xiomara",
    "yesenia",
    "alba",
    "alicia",
    "esperanza",
    "josefina",
    "francisca",
    "antonia",
    "margarita",
    "luz",
    "de",
    "jesus",
];

/// Nicknames and hypocoristics -> the given name they stand for (folded).
const NICKNAMES: &[(&str, &str)] = &[
    ("chepe", "jose"),
    ("pepe", "jose"),
    ("pepito", "jose"),
    ("paco", "francisco"),
    ("pancho", "francisco"),
    ("chico", "francisco"),
    ("kiko", "francisco"),
    ("tono", "antonio"),
    ("tonio", "antonio"),
    ("memo", "guillermo"),
    ("beto", "roberto"),
    ("tito", "alberto"),
    ("neto", "ernesto"),
    ("chayo", "rosario"),
    ("meche", "mercedes"),
    ("lola", "dolores"),
    ("lolita", "dolores"),
    ("nacho", "ignacio"),
    ("chuy", "jesus"),
    ("chucho", "jesus"),
    ("concha", "concepcion"),
    ("conchita", "concepcion"),
    ("lupe", "guadalupe"),
    ("lupita", "guadalupe"),
    ("manolo", "manuel"),
    ("lencho", "lorenzo"),
    ("quique", "enrique"),
    ("rafa", "rafael"),
    ("nando", "fernando"),
    ("lalo", "eduardo"),
    ("toncho", "antonio"),
    ("chente", "vicente"),
    ("chema", "jose"),
    ("moncho", "ramon"),
    ("juancho", "juan"),
    ("goyo", "gregorio"),
    ("chabela", "isabel"),
    ("licha", "alicia"),
    ("maru", "maria"),
    ("mari", "maria"),
];

/// The given name a nickname stands for, or the name itself (folded input, folded output).
pub fn canonical_given(token: &str) -> &str {
    // This runs for every word of every compared pair of given names, and most words are no
    // nickname: the length and first letter rule out nearly every entry before the text is
    // compared.
    let first = token.as_bytes().first();
    NICKNAMES
        .iter()
        .find(|(nick, _)| {
            nick.len() == token.len() && nick.as_bytes().first() == first && *nick == token
        })
        .map_or(token, |(_, name)| name)
}

/// The first given name, folded and with nicknames resolved: the key for blocking and for the
/// "same first given name" comparison level.
pub fn given1_key(given: &str) -> String {
    let f = fold(given);
    f.split(' ')
        .next()
        .map(|t| canonical_given(t).to_string())
        .unwrap_or_default()
}

fn is_given_name(group: &str) -> bool {
    GIVEN_NAMES.contains(&group) || NICKNAMES.iter().any(|(n, _)| *n == group)
}

/// Groups folded words so that particles stay with the word they introduce:
/// `juan de la cruz perez` -> `[juan, de la cruz, perez]`.
fn groups(folded: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        if PARTICLES.contains(&word) || word == "y" {
            if !pending.is_empty() {
                pending.push(' ');
            }
            pending.push_str(word);
        } else if pending.is_empty() {
            out.push(word.to_string());
        } else {
            out.push(format!("{pending} {word}"));
            pending.clear();
        }
    }
    if !pending.is_empty() {
        // A trailing particle with nothing after it: keep it as its own group, not lost.
        out.push(pending);
    }
    out
}

/// Splits off `alias ...` (and quoted nicknames) written inside a name.
fn split_alias(folded: &str) -> (String, String) {
    if let Some(pos) = folded.find(" alias ") {
        return (
            folded[..pos].to_string(),
            folded[pos + " alias ".len()..].to_string(),
        );
    }
    if let Some(rest) = folded.strip_prefix("alias ") {
        return (String::new(), rest.to_string());
    }
    (folded.to_string(), String::new())
}

/// If the last group is a married `de X` (plain `de` plus one word) after at least two other
/// groups, returns it without the `de`. `del`/`de la` are surname particles, not marriage.
fn take_married(groups: &mut Vec<String>, sex: Option<&str>) -> String {
    if sex == Some("M") || groups.len() < 3 {
        return String::new();
    }
    let last = &groups[groups.len() - 1];
    if let Some(rest) = last.strip_prefix("de ")
        && !rest.contains(' ')
        && !PARTICLES.contains(&rest)
    {
        let married = rest.to_string();
        groups.pop();
        return married;
    }
    String::new()
}

/// Splits a full name written in one column: `José Luis Hernández López`,
/// `HERNANDEZ LOPEZ JOSE LUIS` is not detected (surname-first order needs a mapping of separate
/// columns). `sex` (`M`/`F`) helps tell a married `de X` from a surname such as `de León`.
///
/// Rule: given names are the leading words found in the given-name table (at least one, and at
/// most all but one word); of the rest, the first is the first surname and everything after it
/// the second; if more than two words remain, the extra leading ones count as given names.
pub fn split_full_name_with_sex(full: &str, sex: Option<&str>) -> SplitName {
    let (name_part, alias) = split_alias(&fold(full));
    let mut gs = groups(&name_part);
    let married = take_married(&mut gs, sex);
    if gs.is_empty() {
        return SplitName {
            alias,
            ..SplitName::default()
        };
    }
    let mut n_given = gs.iter().take_while(|g| is_given_name(g)).count();
    n_given = n_given.clamp(1, gs.len().saturating_sub(1).max(1));
    if gs.len() - n_given > 2 {
        n_given = gs.len() - 2;
    }
    let n_given = n_given.min(gs.len());
    let given = gs[..n_given].join(" ");
    let rest = &gs[n_given..];
    SplitName {
        given,
        surname1: rest.first().cloned().unwrap_or_default(),
        surname2: rest.get(1..).map(|r| r.join(" ")).unwrap_or_default(),
        married,
        alias,
    }
}

/// [`split_full_name_with_sex`] without knowing the sex.
pub fn split_full_name(full: &str) -> SplitName {
    split_full_name_with_sex(full, None)
}

/// Splits a surnames column (`Hernández López`, `Reyes de Martínez`, `de la Cruz`) into the
/// first surname, the second surname and a married `de X`.
pub fn split_surnames(surnames: &str, sex: Option<&str>) -> (String, String, String) {
    let mut gs = groups(&fold(surnames));
    // With only one surname plus `de X`, `de X` is still a married name.
    let married = if gs.len() == 2 && sex != Some("M") {
        match gs[1].strip_prefix("de ") {
            Some(rest) if !rest.contains(' ') => {
                let m = rest.to_string();
                gs.pop();
                m
            }
            _ => String::new(),
        }
    } else {
        // take_married needs three groups; pad with a placeholder for the given names.
        let mut padded = vec![String::new()];
        padded.extend(gs.iter().cloned());
        let m = take_married(&mut padded, sex);
        if !m.is_empty() {
            gs.pop();
        }
        m
    };
    let s1 = gs.first().cloned().unwrap_or_default();
    let s2 = gs.get(1..).map(|r| r.join(" ")).unwrap_or_default();
    (s1, s2, married)
}

/// A phonetic key for Spanish surnames, for blocking: letters that sound alike in Latin
/// American Spanish get one symbol (`b`/`v`; `s`/`z`/soft `c`; `y`/`ll`; soft `g`/`j`; silent
/// `h`; `qu`/hard `c`/`k`), doubled symbols collapse, and particles are dropped.
///
/// No maintained Rust crate has Spanish rules (`rphonetic`'s Beider–Morse is generic and slow), so
/// this follows the published rules of Spanish phonetic keys (e.g. "Fonético" by Amón et al.).
pub fn phonetic_key(name: &str) -> String {
    let f = fold(name);
    let words: Vec<&str> = f
        .split(' ')
        .filter(|w| !w.is_empty() && !PARTICLES.contains(w) && *w != "y")
        .collect();
    let word = words.first().copied().unwrap_or("");
    let b = word.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let code = match c {
            b'h' => None,
            b'v' | b'b' | b'w' => Some(b'b'),
            b'z' | b's' => Some(b's'),
            b'c' => match next {
                Some(b'e') | Some(b'i') => Some(b's'),
                Some(b'h') => {
                    i += 1;
                    Some(b'x')
                }
                _ => Some(b'k'),
            },
            b'q' => {
                if next == Some(b'u') {
                    i += 1;
                }
                Some(b'k')
            }
            b'k' => Some(b'k'),
            b'g' => match next {
                Some(b'e') | Some(b'i') => Some(b'j'),
                _ => Some(b'g'),
            },
            b'j' => Some(b'j'),
            b'l' if next == Some(b'l') => {
                i += 1;
                Some(b'y')
            }
            b'y' => Some(b'y'),
            b'i' => Some(b'i'),
            other => Some(other),
        };
        if let Some(code) = code
            && out.last() != Some(&code)
        {
            out.push(code);
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> (String, String, String) {
        let n = split_full_name(s);
        (n.given, n.surname1, n.surname2)
    }

    fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn full_names_split_the_spanish_way() {
        assert_eq!(
            split("José Luis Hernández López"),
            t("jose luis", "hernandez", "lopez")
        );
        assert_eq!(
            split("JOSE HERNANDEZ LOPEZ"),
            t("jose", "hernandez", "lopez")
        );
        assert_eq!(
            split("José Luis Hernández"),
            t("jose luis", "hernandez", "")
        );
        assert_eq!(split("José Hernández"), t("jose", "hernandez", ""));
        assert_eq!(
            split("Juan de la Cruz Pérez"),
            t("juan", "de la cruz", "perez")
        );
        assert_eq!(
            split("Wilber Alexis Menjívar Rivas"),
            t("wilber alexis", "menjivar", "rivas")
        );
        // An unknown first given name still leaves two surnames.
        assert_eq!(
            split("Yefri Alexander Zelaya Portillo"),
            t("yefri alexander", "zelaya", "portillo")
        );
        assert_eq!(split("Hernández"), t("hernandez", "", ""));
        assert_eq!(split(""), t("", "", ""));
    }

    #[test]
    fn married_names_and_aliases() {
        let n = split_full_name("María Reyes de Martínez");
        assert_eq!(
            (n.surname1.as_str(), n.married.as_str()),
            ("reyes", "martinez")
        );
        let n = split_full_name_with_sex("Juan Ponce de León", Some("M"));
        assert_eq!(
            (n.surname1.as_str(), n.surname2.as_str()),
            ("ponce", "de leon")
        );
        let n = split_full_name("José Pérez alias El Flaco");
        assert_eq!(
            (n.surname1.as_str(), n.alias.as_str()),
            ("perez", "el flaco")
        );
        assert_eq!(
            split_surnames("Reyes de Martínez", None),
            ("reyes".into(), "".into(), "martinez".into())
        );
        assert_eq!(
            split_surnames("Hernández López", Some("M")),
            ("hernandez".into(), "lopez".into(), "".into())
        );
    }

    #[test]
    fn nicknames_resolve() {
        assert_eq!(given1_key("Chepe"), "jose");
        assert_eq!(given1_key("José Luis"), "jose");
        assert_eq!(given1_key("Toño"), "antonio");
        assert_eq!(given1_key(""), "");
    }

    #[test]
    fn phonetic_key_merges_sound_alikes() {
        assert_eq!(phonetic_key("Hernández"), phonetic_key("Ernandes"));
        assert_eq!(phonetic_key("Vásquez"), phonetic_key("Básquez"));
        assert_eq!(phonetic_key("Villalobos"), phonetic_key("Biyalobos"));
        assert_eq!(phonetic_key("Gómez"), phonetic_key("Gomes"));
        assert_ne!(phonetic_key("López"), phonetic_key("Martínez"));
        assert_eq!(phonetic_key("de la Cruz"), phonetic_key("Cruz"));
    }
}

/// The name parts of a record from whatever name columns its list has: separate given names and
/// surnames when present, otherwise the full name split by [`split_full_name_with_sex`]. Inputs
/// are raw values (folded here); `sex` is `M`/`F` when known.
pub fn standardise(
    given: &str,
    surname1: &str,
    surname2: &str,
    surnames: &str,
    full: &str,
    sex: Option<&str>,
) -> SplitName {
    let has_parts = !given.trim().is_empty()
        || !surname1.trim().is_empty()
        || !surname2.trim().is_empty()
        || !surnames.trim().is_empty();
    if !has_parts {
        return split_full_name_with_sex(full, sex);
    }
    let (alias_free, alias) = split_alias(&fold(given));
    let mut out = SplitName {
        given: alias_free,
        alias,
        ..SplitName::default()
    };
    if !surname1.trim().is_empty() || !surname2.trim().is_empty() {
        out.surname1 = fold(surname1);
        let (s2, married) = {
            let g = groups(&fold(surname2));
            match g.as_slice() {
                [only]
                    if sex != Some("M") && only.starts_with("de ") && !only[3..].contains(' ') =>
                {
                    (String::new(), only[3..].to_string())
                }
                _ => (g.join(" "), String::new()),
            }
        };
        out.surname2 = s2;
        out.married = married;
    } else {
        let (s1, s2, married) = split_surnames(surnames, sex);
        out.surname1 = s1;
        out.surname2 = s2;
        out.married = married;
    }
    out
}

#[cfg(test)]
mod standardise_tests {
    use super::*;

    #[test]
    fn separate_columns_win_over_full_name() {
        let n = standardise("José Luis", "Hernández", "López", "", "ignored", None);
        assert_eq!(
            (n.given.as_str(), n.surname1.as_str(), n.surname2.as_str()),
            ("jose luis", "hernandez", "lopez")
        );
        let n = standardise("MARIA", "", "", "REYES DE MARTINEZ", "", Some("F"));
        assert_eq!(
            (n.surname1.as_str(), n.married.as_str()),
            ("reyes", "martinez")
        );
        let n = standardise("María", "Reyes", "de Martínez", "", "", None);
        assert_eq!((n.surname2.as_str(), n.married.as_str()), ("", "martinez"));
        let n = standardise("", "", "", "", "Ana Peña", None);
        assert_eq!(n.surname1, "pena");
    }
}
