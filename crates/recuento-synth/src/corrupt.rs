//! The errors lists make: typos, dropped accents and names, swapped surnames, nicknames,
//! married names, swapped day and month, year-only dates, ages instead of birth dates, ID typos.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use recuento_model::PartialDate;

use crate::people::{FACILITIES, Person, from_epoch_days};

/// How error-prone one list is. Probabilities are per record.
#[derive(Debug, Clone)]
pub struct ErrorProfile {
    /// A keyboard or OCR typo somewhere in the name.
    pub name_typo: f64,
    /// Only the first given name is kept.
    pub first_given_only: f64,
    /// The second surname is left out.
    pub drop_surname2: f64,
    /// The surnames are written in the other order.
    pub swap_surnames: f64,
    /// The surnames are written joined (`HERNANDEZLOPEZ`) or hyphenated.
    pub join_surnames: f64,
    /// A nickname replaces the first given name (`Chepe` for José).
    pub nickname: f64,
    /// Accents are dropped (per record).
    pub drop_accents: f64,
    /// The national ID is recorded at all.
    pub id_present: f64,
    /// One digit of the ID is wrong or two are transposed.
    pub id_typo: f64,
    /// Birth date written as the year only.
    pub birth_year_only: f64,
    /// Day and month of the birth date swapped (when both are at most 12).
    pub birth_swap: f64,
    /// Birth date missing.
    pub birth_missing: f64,
    /// Event date off by 1–3 days (date reported rather than date of death).
    pub event_shift: f64,
    /// Event date known to the month only.
    pub event_month_only: f64,
    /// Share of records entered twice (an internal duplicate, with its own errors).
    pub duplicates: f64,
}

const NICKS: &[(&str, &[&str])] = &[
    ("José", &["Chepe", "Pepe", "Chema"]),
    ("Francisco", &["Paco", "Pancho", "Chico"]),
    ("Antonio", &["Toño", "Tono"]),
    ("Guillermo", &["Memo"]),
    ("Roberto", &["Beto"]),
    ("Alberto", &["Beto", "Tito"]),
    ("Ernesto", &["Neto"]),
    ("Rosario", &["Chayo"]),
    ("Mercedes", &["Meche"]),
    ("Dolores", &["Lola"]),
    ("Ignacio", &["Nacho"]),
    ("Jesús", &["Chuy", "Chucho"]),
    ("Concepción", &["Concha"]),
    ("Guadalupe", &["Lupe"]),
    ("Manuel", &["Manolo"]),
    ("Enrique", &["Quique"]),
    ("Rafael", &["Rafa"]),
    ("Fernando", &["Nando"]),
    ("Eduardo", &["Lalo"]),
    ("Vicente", &["Chente"]),
];

/// A person as one list writes them, before formatting.
#[derive(Debug, Clone)]
pub struct Written {
    /// Given names as written.
    pub given: String,
    /// First surname as written (may hold both, joined).
    pub surname1: String,
    /// Second surname as written (may be empty).
    pub surname2: String,
    /// `M`/`F`.
    pub sex: &'static str,
    /// Birth date at its written precision, or none.
    pub birth: Option<PartialDate>,
    /// Age at the event.
    pub age: i32,
    /// Event date at its written precision.
    pub event: PartialDate,
    /// Facility index.
    pub facility: usize,
    /// Municipality.
    pub place: &'static str,
    /// National ID as written.
    pub dui: Option<String>,
    /// Alias.
    pub alias: Option<&'static str>,
}

/// Removes Spanish accents (what a keyboard without them, or an old database, does).
pub fn strip_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            'Á' => 'A',
            'É' => 'E',
            'Í' => 'I',
            'Ó' => 'O',
            'Ú' | 'Ü' => 'U',
            'Ñ' => 'N',
            other => other,
        })
        .collect()
}

/// One typo: a neighbouring key, a dropped letter, two letters transposed or a letter doubled.
pub fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    // Typos in the first letter are rarer (people check the start of a name).
    let candidates: Vec<usize> = letters.iter().copied().filter(|&i| i > 0).collect();
    let Some(&i) = candidates.choose(rng) else {
        return s.to_string();
    };
    let mut out = chars.clone();
    match rng.random_range(0..4) {
        0 => {
            const NEAR: &[(char, &str)] = &[
                ('a', "sqz"),
                ('e', "wrd"),
                ('i', "uok"),
                ('o', "ipl"),
                ('u', "yij"),
                ('n', "bmh"),
                ('r', "etf"),
                ('s', "adz"),
                ('l', "kop"),
                ('z', "sx"),
                ('c', "xvs"),
                ('m', "nj"),
                ('t', "ryg"),
                ('d', "sfe"),
                ('g', "fhj"),
                ('v', "bcf"),
                ('b', "vng"),
            ];
            let lower = chars[i].to_lowercase().next().unwrap_or(chars[i]);
            let subst = NEAR
                .iter()
                .find(|(c, _)| *c == lower)
                .and_then(|(_, near)| near.chars().collect::<Vec<_>>().choose(rng).copied())
                .unwrap_or('e');
            out[i] = if chars[i].is_uppercase() {
                subst.to_ascii_uppercase()
            } else {
                subst
            };
        }
        1 => {
            out.remove(i);
        }
        2 if i + 1 < out.len() && out[i + 1].is_alphabetic() => out.swap(i, i + 1),
        _ => out.insert(i, chars[i]),
    }
    out.into_iter().collect()
}

fn id_typo(rng: &mut ChaCha8Rng, id: &str) -> String {
    let mut chars: Vec<char> = id.chars().collect();
    let digits: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_digit())
        .collect();
    let Some(&i) = digits.choose(rng) else {
        return id.to_string();
    };
    if rng.random::<bool>() {
        chars[i] = char::from(b'0' + rng.random_range(0..10u8));
    } else if let Some(&j) = digits.iter().find(|&&j| j == i + 1) {
        chars.swap(i, j);
    } else {
        chars[i] = char::from(b'0' + (chars[i] as u8 - b'0' + 1) % 10);
    }
    chars.into_iter().collect()
}

/// Writes a person the way a list with this error profile would.
pub fn write_person(
    rng: &mut ChaCha8Rng,
    p: &Person,
    e: &ErrorProfile,
    married_style: bool,
) -> Written {
    let mut given: Vec<String> = p.given.iter().map(|g| g.to_string()).collect();
    if given.len() > 1 && rng.random::<f64>() < e.first_given_only {
        given.truncate(1);
    }
    if rng.random::<f64>() < e.nickname
        && let Some((_, nicks)) = NICKS.iter().find(|(n, _)| *n == given[0])
    {
        given[0] = nicks.choose(rng).unwrap_or(&"Chepe").to_string();
    }
    let mut s1 = p.surname1.to_string();
    let mut s2 = p.surname2.to_string();
    // Married women: some lists write `de <husband>` after the first surname, in place of the
    // maternal surname.
    if married_style && let Some(m) = p.married {
        s2 = format!("de {m}");
    }
    if rng.random::<f64>() < e.drop_surname2 {
        s2.clear();
    }
    if !s2.is_empty() && rng.random::<f64>() < e.swap_surnames && !s2.starts_with("de ") {
        std::mem::swap(&mut s1, &mut s2);
    }
    if !s2.is_empty() && !s2.starts_with("de ") && rng.random::<f64>() < e.join_surnames {
        let sep = if rng.random::<bool>() { "" } else { "-" };
        s1 = format!("{s1}{sep}{s2}");
        s2.clear();
    }
    let mut given = given.join(" ");
    if rng.random::<f64>() < e.name_typo {
        match rng.random_range(0..3) {
            0 => given = typo(rng, &given),
            1 => s1 = typo(rng, &s1),
            _ if !s2.is_empty() => s2 = typo(rng, &s2),
            _ => s1 = typo(rng, &s1),
        }
    }
    if rng.random::<f64>() < e.drop_accents {
        given = strip_accents(&given);
        s1 = strip_accents(&s1);
        s2 = strip_accents(&s2);
    }
    let birth = if rng.random::<f64>() < e.birth_missing {
        None
    } else if rng.random::<f64>() < e.birth_year_only {
        Some(PartialDate::y(p.birth.year))
    } else if rng.random::<f64>() < e.birth_swap
        && let (Some(m), Some(d)) = (p.birth.month, p.birth.day)
        && d <= 12
        && d != m
    {
        PartialDate::ymd(p.birth.year, d, m)
    } else {
        Some(p.birth)
    };
    let mut event = p.event;
    if rng.random::<f64>() < e.event_shift
        && let Some(days) = event.days_since_epoch()
    {
        event = from_epoch_days(days + rng.random_range(1..=3));
    }
    if rng.random::<f64>() < e.event_month_only {
        event.day = None;
    }
    let dui = p
        .dui
        .as_ref()
        .filter(|_| rng.random::<f64>() < e.id_present)
        .map(|d| {
            if rng.random::<f64>() < e.id_typo {
                id_typo(rng, d)
            } else {
                d.clone()
            }
        });
    // A few records name the wrong facility (transfers between prisons).
    let facility = if rng.random::<f64>() < 0.03 {
        rng.random_range(0..FACILITIES.len())
    } else {
        p.facility
    };
    Written {
        given,
        surname1: s1,
        surname2: s2,
        sex: p.sex,
        birth,
        age: p.age(),
        event,
        facility,
        place: p.place,
        dui,
        alias: p.alias,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn typo_changes_one_thing() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            let t = typo(&mut rng, "Hernández");
            assert_ne!(t, "");
            assert!(t.starts_with('H'));
        }
        assert_eq!(strip_accents("Peña Núñez"), "Pena Nunez");
    }
}
