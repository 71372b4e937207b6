//! The true population: people with names, dates, places and IDs drawn from realistic
//! distributions for El Salvador under the state of exception (see `domain.md`).

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use recuento_model::PartialDate;

/// Male given names (with accents as usually written).
pub const MALE_GIVEN: &[&str] = &[
    "José",
    "Juan",
    "Carlos",
    "Luis",
    "Jorge",
    "Francisco",
    "Antonio",
    "Miguel",
    "Mario",
    "Óscar",
    "Roberto",
    "Ernesto",
    "Guillermo",
    "Ignacio",
    "Jesús",
    "Manuel",
    "Pedro",
    "Rafael",
    "Ricardo",
    "Víctor",
    "Walter",
    "William",
    "Wilber",
    "Edwin",
    "Elmer",
    "Nelson",
    "Marvin",
    "Kevin",
    "Josué",
    "Douglas",
    "Santos",
    "Salvador",
    "René",
    "Raúl",
    "Julio",
    "César",
    "Hugo",
    "David",
    "Daniel",
    "Eduardo",
    "Alexander",
    "Alexis",
    "Cristian",
    "Mauricio",
    "Rodrigo",
    "Fernando",
    "Javier",
    "Alberto",
    "Ángel",
    "Samuel",
    "Moisés",
    "Henry",
    "Gerardo",
    "Gustavo",
    "Héctor",
    "Iván",
    "Joaquín",
    "Leonel",
    "Orlando",
    "Rolando",
    "Rubén",
    "Sergio",
    "Tomás",
    "Vicente",
    "Yonathan",
    "Brayan",
    "Jonathan",
    "Enrique",
    "Andrés",
    "Armando",
    "Efraín",
    "Gilberto",
];

/// Female given names.
pub const FEMALE_GIVEN: &[&str] = &[
    "María",
    "Ana",
    "Rosa",
    "Carmen",
    "Dolores",
    "Mercedes",
    "Rosario",
    "Concepción",
    "Guadalupe",
    "Marta",
    "Gloria",
    "Patricia",
    "Sandra",
    "Silvia",
    "Sonia",
    "Teresa",
    "Verónica",
    "Yolanda",
    "Elena",
    "Isabel",
    "Lucía",
    "Claudia",
    "Karla",
    "Wendy",
    "Cecilia",
    "Beatriz",
    "Blanca",
    "Delmy",
    "Evelyn",
    "Fátima",
    "Irma",
    "Julia",
    "Marisol",
    "Miriam",
    "Reina",
    "Sara",
    "Xiomara",
    "Yesenia",
    "Alicia",
    "Margarita",
];

/// Surnames, most common first; drawn with Zipf-like weights so common surnames dominate,
/// as in real Salvadoran lists (Hernández, López, Martínez...).
pub const SURNAMES: &[&str] = &[
    "Hernández",
    "López",
    "Martínez",
    "García",
    "Rodríguez",
    "González",
    "Ramírez",
    "Pérez",
    "Rivera",
    "Flores",
    "Mejía",
    "Cruz",
    "Reyes",
    "Sánchez",
    "Romero",
    "Díaz",
    "Portillo",
    "Alvarado",
    "Ramos",
    "Torres",
    "Vásquez",
    "Castro",
    "Guevara",
    "Ayala",
    "Escobar",
    "Moreno",
    "Orellana",
    "Chávez",
    "Argueta",
    "Rivas",
    "Aguilar",
    "Morales",
    "Menjívar",
    "Mendoza",
    "Navarro",
    "Quintanilla",
    "Villalobos",
    "Zelaya",
    "Bonilla",
    "Campos",
    "Alfaro",
    "Amaya",
    "Cornejo",
    "Deras",
    "Fuentes",
    "Galdámez",
    "Henríquez",
    "Jovel",
    "Lemus",
    "Marroquín",
    "Molina",
    "Najarro",
    "Osorio",
    "Palacios",
    "Peña",
    "Quijada",
    "Recinos",
    "Saravia",
    "Serrano",
    "Tobar",
    "Umaña",
    "Valladares",
    "Ventura",
    "Zepeda",
    "Abarca",
    "Barrera",
    "Carranza",
    "Cienfuegos",
    "Durán",
    "Echeverría",
    "Figueroa",
    "Gámez",
    "Huezo",
    "Iraheta",
    "Juárez",
    "Lainez",
    "Machuca",
    "Nolasco",
    "Olmedo",
    "Pineda",
    "Quinteros",
    "Rosales",
    "Sorto",
    "Tejada",
    "Urrutia",
    "Velásquez",
    "Zúniga",
    "de la Cruz",
    "Ábrego",
    "Beltrán",
    "Cañas",
    "Domínguez",
    "Elías",
    "Funes",
    "Granados",
    "Hidalgo",
    "Interiano",
    "Jiménez",
    "Ladino",
    "Montoya",
];

/// Prisons and places of detention named in the lists (see `domain.md`).
pub const FACILITIES: &[(&str, &str)] = &[
    ("Centro Penal La Esperanza (Mariona)", "Mariona"),
    ("Centro Penal de Izalco", "Izalco"),
    ("Centro Penal de Zacatecoluca", "Zacatecoluca"),
    ("Centro Penal Apanteos", "Apanteos"),
    ("Centro Penal de Quezaltepeque", "Quezaltepeque"),
    ("Centro de Confinamiento del Terrorismo (CECOT)", "CECOT"),
    ("Bartolinas de la PNC", "Bartolinas"),
    ("Hospital Nacional Rosales", "Hospital Rosales"),
];

/// Municipalities people came from.
pub const PLACES: &[&str] = &[
    "San Salvador",
    "Soyapango",
    "Mejicanos",
    "Apopa",
    "Santa Ana",
    "San Miguel",
    "Ilopango",
    "Ciudad Delgado",
    "San Martín",
    "Tonacatepeque",
    "Usulután",
    "Sonsonate",
    "La Libertad",
    "Santa Tecla",
    "Chalatenango",
    "Cojutepeque",
    "Zacatecoluca",
    "Ahuachapán",
    "La Unión",
    "San Vicente",
    "Quezaltepeque",
    "Colón",
    "Ciudad Arce",
    "Izalco",
    "Chalchuapa",
];

/// Aliases written next to names.
pub const ALIASES: &[&str] = &[
    "El Flaco",
    "El Negro",
    "El Gato",
    "El Chino",
    "El Güero",
    "El Pelón",
    "El Moreno",
    "Chele",
    "El Zarco",
    "El Cuervo",
];

/// One true person.
#[derive(Debug, Clone)]
pub struct Person {
    /// `P000001`.
    pub id: String,
    /// `M` or `F`.
    pub sex: &'static str,
    /// One or two given names.
    pub given: Vec<&'static str>,
    /// Paternal surname.
    pub surname1: &'static str,
    /// Maternal surname.
    pub surname2: &'static str,
    /// Husband's surname for some married women.
    pub married: Option<&'static str>,
    /// Alias, for some.
    pub alias: Option<&'static str>,
    /// Full date of birth.
    pub birth: PartialDate,
    /// Date of death in custody.
    pub event: PartialDate,
    /// Index into [`FACILITIES`].
    pub facility: usize,
    /// Municipality.
    pub place: &'static str,
    /// Digits of a valid DUI (`dddddddd-d`), for most.
    pub dui: Option<String>,
    /// Visibility class: 0 = visible (family organised, known case), 1 = hidden.
    pub visibility: u8,
}

impl Person {
    /// Age in whole years at the event.
    pub fn age(&self) -> i32 {
        let (bm, bd) = (self.birth.month.unwrap_or(1), self.birth.day.unwrap_or(1));
        let (em, ed) = (self.event.month.unwrap_or(1), self.event.day.unwrap_or(1));
        self.event.year - self.birth.year - i32::from((em, ed) < (bm, bd))
    }
}

/// Draws an index below `n` with probability proportional to 1 / (i + 3).
pub fn zipf_index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let total: f64 = (0..n).map(|i| 1.0 / (i as f64 + 3.0)).sum();
    let mut x = rng.random::<f64>() * total;
    for i in 0..n {
        x -= 1.0 / (i as f64 + 3.0);
        if x <= 0.0 {
            return i;
        }
    }
    n.saturating_sub(1)
}

/// Draws an item, item `i` with probability proportional to 1 / (i + 3): a heavy head and a
/// long tail, as surnames and given names have.
pub fn zipf<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[zipf_index(rng, items.len())]
}

fn random_date(rng: &mut ChaCha8Rng, from: (i32, u8, u8), to: (i32, u8, u8)) -> PartialDate {
    // Every valid field combination; enough for synthetic data.
    let start = PartialDate::ymd(from.0, from.1, from.2)
        .and_then(|d| d.days_since_epoch())
        .unwrap_or(0);
    let end = PartialDate::ymd(to.0, to.1, to.2)
        .and_then(|d| d.days_since_epoch())
        .unwrap_or(1);
    let day = rng.random_range(start..=end);
    from_epoch_days(day)
}

/// The civil date of a day number (inverse of `PartialDate::days_since_epoch`).
pub fn from_epoch_days(z: i64) -> PartialDate {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = (y + i64::from(m <= 2)) as i32;
    PartialDate {
        year: y,
        month: Some(m),
        day: Some(d),
    }
}

fn dui(rng: &mut ChaCha8Rng) -> String {
    let digits: Vec<u8> = (0..8).map(|_| rng.random_range(0..10u8)).collect();
    let sum: u32 = digits
        .iter()
        .zip((2..=9u32).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    let check = (10 - sum % 10) % 10;
    let body: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    format!("{body}-{check}")
}

/// Draws `n` people.
pub fn draw_people(rng: &mut ChaCha8Rng, n: usize, visible_share: f64) -> Vec<Person> {
    (0..n)
        .map(|i| {
            let sex = if rng.random::<f64>() < 0.9 { "M" } else { "F" };
            let pool = if sex == "M" { MALE_GIVEN } else { FEMALE_GIVEN };
            let mut given = vec![*zipf(rng, pool)];
            if rng.random::<f64>() < 0.6 {
                let second = *pool.choose(rng).unwrap_or(&"José");
                if second != given[0] {
                    given.push(second);
                }
            }
            let married = (sex == "F" && rng.random::<f64>() < 0.35)
                .then(|| SURNAMES[zipf_index(rng, SURNAMES.len())]);
            Person {
                id: format!("P{:06}", i + 1),
                sex,
                given,
                surname1: SURNAMES[zipf_index(rng, SURNAMES.len())],
                surname2: SURNAMES[zipf_index(rng, SURNAMES.len())],
                married,
                alias: (rng.random::<f64>() < 0.1)
                    .then(|| *ALIASES.choose(rng).unwrap_or(&"El Flaco")),
                birth: random_date(rng, (1950, 1, 1), (2004, 12, 31)),
                event: random_date(rng, (2022, 3, 27), (2025, 10, 31)),
                facility: *zipf(rng, &[0usize, 1, 2, 3, 4, 5, 6, 7]),
                place: PLACES[zipf_index(rng, PLACES.len())],
                dui: (rng.random::<f64>() < 0.85).then(|| dui(rng)),
                visibility: u8::from(rng.random::<f64>() >= visible_share),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_round_trip() {
        for z in [-1000i64, 0, 11_017, 19_000, 20_000] {
            let d = from_epoch_days(z);
            assert_eq!(d.days_since_epoch(), Some(z));
        }
    }
}
