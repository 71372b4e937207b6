//! Synthetic scenarios with ground truth: the demo, the tests and the benchmarks run on these,
//! never on real victim data.
//!
//! [`generate`] draws a population of people who died in custody ([`people`]), decides which
//! lists see each of them (heterogeneous visibility and one list that copies another), writes each
//! list the way a different kind of organisation would ([`corrupt`]: own column names, date
//! formats, encodings and errors, internal duplicates), and writes a ready project: the lists, a
//! `recuento.toml`, `truth.csv` (`list,record_id,person_id`) and `scenario.json`.
//!
//! ```no_run
//! let s = recuento_synth::generate(&recuento_synth::Options { persons: 3000, seed: 7, lists: 5 },
//!                                  std::path::Path::new("demo")).unwrap();
//! println!("{} people, {} seen", s.persons, s.observed);
//! ```
#![deny(missing_docs)]

pub mod corrupt;
pub mod people;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_model::PartialDate;
use serde::Serialize;

use corrupt::{ErrorProfile, Written, write_person};
use people::FACILITIES;

/// Errors writing a scenario.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing a file failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the Excel workbook failed.
    #[error("could not write the Excel list {path}: {message}")]
    Xlsx {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// Bad options.
    #[error("{0}")]
    Options(String),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of true people, including those on no list.
    pub persons: usize,
    /// Seed of every random draw; the same seed gives byte-identical files.
    pub seed: u64,
    /// Number of lists, 2 to 5.
    pub lists: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            persons: 3000,
            seed: 1,
            lists: 5,
        }
    }
}

/// What was generated (also written as `scenario.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// True number of people, including those on no list.
    pub persons: usize,
    /// People on at least one list.
    pub observed: usize,
    /// The seed.
    pub seed: u64,
    /// Per list: name, records written, distinct people.
    pub lists: Vec<ListSummary>,
    /// How capture was simulated, in words.
    pub capture_model: String,
}

/// One list of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ListSummary {
    /// List name.
    pub name: String,
    /// File name inside `lists/`.
    pub file: String,
    /// Records (rows), including internal duplicates.
    pub records: usize,
    /// Distinct people.
    pub persons: usize,
}

struct ListDef {
    name: &'static str,
    file: &'static str,
    organisation: &'static str,
    collection: &'static str,
    /// Capture probability for visible and hidden people.
    p: (f64, f64),
    errors: ErrorProfile,
    married_style: bool,
}

fn base_errors() -> ErrorProfile {
    ErrorProfile {
        name_typo: 0.05,
        first_given_only: 0.15,
        drop_surname2: 0.08,
        swap_surnames: 0.02,
        join_surnames: 0.0,
        nickname: 0.02,
        drop_accents: 0.2,
        id_present: 0.7,
        id_typo: 0.02,
        birth_year_only: 0.0,
        birth_swap: 0.0,
        birth_missing: 0.0,
        event_shift: 0.05,
        event_month_only: 0.0,
        duplicates: 0.03,
    }
}

/// What [`dedupe_file`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct DedupeSummary {
    /// Records written.
    pub records: usize,
    /// True people among them.
    pub persons: usize,
    /// Record pairs that are the same person.
    pub true_pairs: u64,
}

/// Writes one CSV of `records` records for a deduplication benchmark: people drawn as in
/// [`generate`], each written 1 to 4 times (up to 3 corrupted duplicates: typos, dropped or
/// swapped surnames, nicknames, missing accents, year-only or day/month-swapped birth dates,
/// missing or mistyped IDs). Columns: `record_id, person_id, given_names, surname1, surname2,
/// sex, birth_date, national_id, municipality`; `person_id` is the truth. Byte-identical for a
/// seed.
///
/// # Errors
/// The file cannot be written.
pub fn dedupe_file(records: usize, seed: u64, path: &Path) -> Result<DedupeSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6465_6475_7065);
    // 2.5 records per person on average.
    let people = people::draw_people(&mut rng, records * 2 / 5 + 1, 0.5);
    let errors = ErrorProfile {
        birth_year_only: 0.05,
        birth_swap: 0.03,
        birth_missing: 0.05,
        join_surnames: 0.02,
        ..base_errors()
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e.into(),
    })?;
    let io = io_err(path);
    w.write_record([
        "record_id",
        "person_id",
        "given_names",
        "surname1",
        "surname2",
        "sex",
        "birth_date",
        "national_id",
        "municipality",
    ])
    .map_err(|e| io(e.into()))?;
    let (mut written, mut persons, mut true_pairs) = (0usize, 0usize, 0u64);
    for p in people.iter().cycle() {
        if written >= records {
            break;
        }
        let copies = (1 + rng.random_range(0..=3usize)).min(records - written);
        persons += 1;
        true_pairs += (copies * (copies - 1) / 2) as u64;
        for _ in 0..copies {
            let married_style = rng.random::<f64>() < 0.5;
            let r = corrupt::write_person(&mut rng, p, &errors, married_style);
            written += 1;
            w.write_record([
                format!("R{written:07}"),
                p.id.clone(),
                r.given,
                r.surname1,
                r.surname2,
                r.sex.to_string(),
                r.birth.map(|d| d.to_string()).unwrap_or_default(),
                r.dui.unwrap_or_default(),
                r.place.to_string(),
            ])
            .map_err(|e| io_err(path)(e.into()))?;
        }
    }
    w.flush().map_err(io_err(path))?;
    Ok(DedupeSummary {
        records: written,
        persons,
        true_pairs,
    })
}

fn list_defs() -> Vec<ListDef> {
    vec![
        ListDef {
            name: "ong_legal",
            file: "ong_legal.csv",
            organisation: "Legal-aid NGO (synthetic)",
            collection: "cases confirmed one by one with families",
            p: (0.60, 0.30),
            errors: ErrorProfile {
                first_given_only: 0.1,
                ..base_errors()
            },
            married_style: false,
        },
        ListDef {
            name: "movimiento",
            file: "movimiento_victimas.csv",
            organisation: "Victims' movement (synthetic)",
            collection: "testimonies of relatives at assemblies",
            p: (0.50, 0.22),
            errors: ErrorProfile {
                nickname: 0.08,
                drop_accents: 0.3,
                id_present: 0.0,
                birth_year_only: 0.12,
                birth_swap: 0.06,
                birth_missing: 0.05,
                event_shift: 0.12,
                duplicates: 0.05,
                ..base_errors()
            },
            married_style: true,
        },
        ListDef {
            name: "prensa",
            file: "prensa.csv",
            organisation: "Press monitoring (synthetic)",
            collection: "news reports; partly copied from the NGO list",
            p: (0.15, 0.08),
            errors: ErrorProfile {
                name_typo: 0.08,
                first_given_only: 0.4,
                drop_surname2: 0.35,
                id_present: 0.0,
                event_month_only: 0.2,
                duplicates: 0.04,
                ..base_errors()
            },
            married_style: false,
        },
        ListDef {
            name: "extracto",
            file: "extracto_penitenciario.xlsx",
            organisation: "Leaked prison-system extract (synthetic)",
            collection: "terse administrative register covering some prisons",
            p: (0.45, 0.45),
            errors: ErrorProfile {
                name_typo: 0.03,
                first_given_only: 0.0,
                drop_surname2: 0.02,
                join_surnames: 0.03,
                drop_accents: 1.0,
                id_present: 0.95,
                id_typo: 0.03,
                event_shift: 0.02,
                duplicates: 0.01,
                ..base_errors()
            },
            married_style: false,
        },
        ListDef {
            name: "familias",
            file: "familias.tsv",
            organisation: "Lawyers and families' requests (synthetic)",
            collection: "requests for information filed by relatives",
            p: (0.40, 0.18),
            errors: ErrorProfile {
                name_typo: 0.06,
                first_given_only: 0.3,
                swap_surnames: 0.04,
                nickname: 0.05,
                id_present: 0.5,
                birth_missing: 0.2,
                event_shift: 0.08,
                duplicates: 0.04,
                ..base_errors()
            },
            married_style: true,
        },
    ]
}

/// Prisons the leaked extract covers (indices into [`people::FACILITIES`]).
const EXTRACT_FACILITIES: [usize; 5] = [0, 1, 2, 4, 5];

/// Share of people in the visible class.
const VISIBLE_SHARE: f64 = 0.4;

/// Probability that the press reports a person the NGO lists (referral); otherwise the press
/// finds people on its own with the list's own probabilities.
const PRESS_COPIES_NGO: f64 = 0.40;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Generates a scenario into `dir` (created if needed).
///
/// # Errors
/// Files that cannot be written; options out of range.
pub fn generate(options: &Options, dir: &Path) -> Result<Scenario> {
    if !(2..=5).contains(&options.lists) {
        return Err(Error::Options("--lists must be between 2 and 5".into()));
    }
    if options.persons == 0 {
        return Err(Error::Options("--persons must be at least 1".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let people = people::draw_people(&mut rng, options.persons, VISIBLE_SHARE);
    let defs: Vec<ListDef> = list_defs().into_iter().take(options.lists).collect();

    // Capture: which lists see whom.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); defs.len()];
    for (i, p) in people.iter().enumerate() {
        let mut on: Vec<bool> = Vec::with_capacity(defs.len());
        for (j, d) in defs.iter().enumerate() {
            let base = if p.visibility == 0 { d.p.0 } else { d.p.1 };
            let prob = match d.name {
                "prensa" if on.first() == Some(&true) => PRESS_COPIES_NGO.max(base),
                "extracto" if !EXTRACT_FACILITIES.contains(&p.facility) => 0.0,
                _ => base,
            };
            let seen = rng.random::<f64>() < prob;
            on.push(seen);
            if seen {
                members[j].push(i);
            }
        }
    }
    let lists_dir = dir.join("lists");
    fs::create_dir_all(&lists_dir).map_err(io_err(&lists_dir))?;
    let mut truth: Vec<(String, String, String)> = Vec::new();
    let mut summaries = Vec::new();
    let mut seen = vec![false; people.len()];
    for (j, d) in defs.iter().enumerate() {
        let mut rows: Vec<(usize, Written)> = Vec::new();
        for &i in &members[j] {
            seen[i] = true;
            rows.push((
                i,
                write_person(&mut rng, &people[i], &d.errors, d.married_style),
            ));
            if rng.random::<f64>() < d.errors.duplicates {
                rows.push((
                    i,
                    write_person(&mut rng, &people[i], &d.errors, d.married_style),
                ));
            }
        }
        rows.shuffle(&mut rng);
        let path = lists_dir.join(d.file);
        let ids = write_list(&mut rng, d, &rows, &path)?;
        for ((i, _), id) in rows.iter().zip(&ids) {
            truth.push((d.name.to_string(), id.clone(), people[*i].id.clone()));
        }
        let mut distinct: Vec<usize> = rows.iter().map(|r| r.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        summaries.push(ListSummary {
            name: d.name.into(),
            file: d.file.into(),
            records: rows.len(),
            persons: distinct.len(),
        });
    }
    let truth_path = dir.join("truth.csv");
    let mut w = csv::Writer::from_path(&truth_path).map_err(|e| Error::Io {
        path: truth_path.display().to_string(),
        source: e.into(),
    })?;
    let mut write_truth = || -> std::result::Result<(), csv::Error> {
        w.write_record(["list", "record_id", "person_id"])?;
        for (l, r, p) in &truth {
            w.write_record([l, r, p])?;
        }
        w.flush()?;
        Ok(())
    };
    write_truth().map_err(|e| Error::Io {
        path: truth_path.display().to_string(),
        source: e.into(),
    })?;
    let scenario = Scenario {
        persons: options.persons,
        observed: seen.iter().filter(|s| **s).count(),
        seed: options.seed,
        lists: summaries,
        capture_model: format!(
            "{:.0}% of people are 'visible' (more likely to be on every list); the press list copies {:.0}% of the NGO list; the prison extract covers only some prisons",
            VISIBLE_SHARE * 100.0,
            PRESS_COPIES_NGO * 100.0
        ),
    };
    let json = serde_json::to_string_pretty(&scenario).unwrap_or_default();
    let sp = dir.join("scenario.json");
    fs::write(&sp, json + "\n").map_err(io_err(&sp))?;
    let cp = dir.join("recuento.toml");
    fs::write(&cp, project_toml(&defs, options)).map_err(io_err(&cp))?;
    Ok(scenario)
}

fn dmy(d: &PartialDate) -> String {
    match (d.month, d.day) {
        (Some(m), Some(day)) => format!("{day:02}/{m:02}/{}", d.year),
        (Some(m), None) => format!("{m:02}/{}", d.year),
        _ => d.year.to_string(),
    }
}

fn spanish_long(d: &PartialDate) -> String {
    const MONTHS: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    match (d.month, d.day) {
        (Some(m), Some(day)) => format!("{day} de {} de {}", MONTHS[usize::from(m) - 1], d.year),
        (Some(m), None) => format!("{} de {}", MONTHS[usize::from(m) - 1], d.year),
        _ => d.year.to_string(),
    }
}

fn full_name(w: &Written) -> String {
    [w.given.as_str(), w.surname1.as_str(), w.surname2.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes one list in its own format; returns the record IDs written, in row order.
fn write_list(
    rng: &mut ChaCha8Rng,
    d: &ListDef,
    rows: &[(usize, Written)],
    path: &Path,
) -> Result<Vec<String>> {
    let err = |e: csv::Error| Error::Io {
        path: path.display().to_string(),
        source: e.into(),
    };
    match d.name {
        "ong_legal" => {
            // UTF-8, comma, own case codes, a free-text column that sometimes spans lines.
            let mut w = csv::Writer::from_path(path).map_err(err)?;
            w.write_record([
                "Código",
                "Nombre completo",
                "Sexo",
                "Edad",
                "Fecha de fallecimiento",
                "Centro penal",
                "DUI",
                "Observaciones",
            ])
            .map_err(err)?;
            let mut ids = Vec::new();
            for (k, (_, r)) in rows.iter().enumerate() {
                let id = format!("SA-{:05}", k + 1);
                let obs = match rng.random_range(0..10) {
                    0 => "Familia denuncia falta de atención médica.\nConfirmado por la familia.",
                    1 => "Causa de muerte según Medicina Legal: edema pulmonar",
                    2 => "Capturado durante el régimen de excepción; sin proceso judicial",
                    _ => "",
                };
                let sex = if r.sex == "M" {
                    "Masculino"
                } else {
                    "Femenino"
                };
                w.write_record([
                    id.as_str(),
                    &full_name(r),
                    sex,
                    &r.age.to_string(),
                    &dmy(&r.event),
                    FACILITIES[r.facility].0,
                    r.dui.as_deref().unwrap_or(""),
                    obs,
                ])
                .map_err(err)?;
                ids.push(id);
            }
            w.flush().map_err(|e| Error::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            Ok(ids)
        }
        "movimiento" => {
            // Windows-1252 with Windows line endings (as Excel saves CSV there), comma,
            // separate name columns, long Spanish dates; no ID column.
            let mut buf = Vec::new();
            {
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(&mut buf);
                w.write_record([
                    "Nombres",
                    "Primer apellido",
                    "Segundo apellido",
                    "Apodo",
                    "Fecha de nacimiento",
                    "Fecha de muerte",
                    "Penal",
                    "Municipio",
                ])
                .map_err(err)?;
                for (_, r) in rows {
                    let birth = r.birth.map(|b| match (b.month, b.day) {
                        (Some(m), Some(day)) => format!("{day}/{m}/{}", b.year),
                        _ => b.year.to_string(),
                    });
                    w.write_record([
                        r.given.as_str(),
                        &r.surname1,
                        &r.surname2,
                        r.alias.unwrap_or(""),
                        birth.as_deref().unwrap_or(""),
                        &spanish_long(&r.event),
                        FACILITIES[r.facility].1,
                        r.place,
                    ])
                    .map_err(err)?;
                }
                w.flush().map_err(|e| Error::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
            }
            let text = String::from_utf8_lossy(&buf).into_owned();
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
            fs::write(path, &bytes).map_err(io_err(path))?;
            Ok((1..=rows.len()).map(|n| n.to_string()).collect())
        }
        "prensa" => {
            // UTF-8 with BOM, semicolons, upper-case names, ISO or month-only dates.
            let mut buf: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
            {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(b';')
                    .from_writer(&mut buf);
                w.write_record(["N°", "NOMBRE", "EDAD", "FECHA", "LUGAR"])
                    .map_err(err)?;
                for (k, (_, r)) in rows.iter().enumerate() {
                    w.write_record([
                        (k + 1).to_string().as_str(),
                        &full_name(r).to_uppercase(),
                        &r.age.to_string(),
                        &match r.event.day {
                            Some(_) => r.event.to_string(),
                            None => spanish_long(&r.event),
                        },
                        FACILITIES[r.facility].1,
                    ])
                    .map_err(err)?;
                }
                w.flush().map_err(|e| Error::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
            }
            fs::write(path, &buf).map_err(io_err(path))?;
            Ok((1..=rows.len()).map(|n| n.to_string()).collect())
        }
        "extracto" => write_extract(rng, rows, path),
        _ => {
            // Tab-separated, UTF-8, ISO birth dates, dd-mm-yyyy events.
            let mut w = csv::WriterBuilder::new()
                .delimiter(b'\t')
                .from_path(path)
                .map_err(err)?;
            w.write_record([
                "id",
                "nombre_completo",
                "sexo",
                "fecha_nacimiento",
                "fecha_deceso",
                "municipio",
                "dui",
            ])
            .map_err(err)?;
            let mut ids = Vec::new();
            for (k, (_, r)) in rows.iter().enumerate() {
                let id = format!("F{:04}", k + 1);
                let event = match (r.event.month, r.event.day) {
                    (Some(m), Some(day)) => format!("{day:02}-{m:02}-{}", r.event.year),
                    _ => r.event.to_string(),
                };
                w.write_record([
                    id.as_str(),
                    &full_name(r),
                    r.sex,
                    &r.birth.map(|b| b.to_string()).unwrap_or_default(),
                    &event,
                    r.place,
                    r.dui.as_deref().unwrap_or(""),
                ])
                .map_err(err)?;
                ids.push(id);
            }
            w.flush().map_err(|e| Error::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            Ok(ids)
        }
    }
}

fn write_extract(
    rng: &mut ChaCha8Rng,
    rows: &[(usize, Written)],
    path: &Path,
) -> Result<Vec<String>> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let xerr = |e: rust_xlsxwriter::XlsxError| Error::Xlsx {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut wb = Workbook::new();
    // A fixed creation date: the same seed must give byte-identical files.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(xerr)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let ws = wb.add_worksheet();
    ws.set_name("internos").map_err(xerr)?;
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    for (c, h) in [
        "ID_INTERNO",
        "NOMBRES",
        "APELLIDOS",
        "DUI",
        "FECHA_NAC",
        "FECHA_DEFUNCION",
        "CENTRO",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).map_err(xerr)?;
    }
    // Prison numbers are random and unique, as in an administrative register.
    let mut numbers: Vec<u32> = (10_000..99_999).collect();
    numbers.shuffle(rng);
    let mut ids = Vec::new();
    for (k, (_, r)) in rows.iter().enumerate() {
        let row = (k + 1) as u32;
        let id = format!("EXP-{}", numbers[k % numbers.len()]);
        ws.write_string(row, 0, &id).map_err(xerr)?;
        ws.write_string(row, 1, r.given.to_uppercase())
            .map_err(xerr)?;
        let surnames = [r.surname1.as_str(), r.surname2.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        ws.write_string(row, 2, surnames.to_uppercase())
            .map_err(xerr)?;
        if let Some(d) = &r.dui {
            ws.write_string(row, 3, d.replace('-', "")).map_err(xerr)?;
        }
        for (col, date) in [(4u16, r.birth), (5, Some(r.event))] {
            if let Some(PartialDate {
                year,
                month: Some(m),
                day: Some(d),
            }) = date
            {
                let dt = ExcelDateTime::from_ymd(year as u16, m, d).map_err(xerr)?;
                ws.write_datetime_with_format(row, col, &dt, &date_format)
                    .map_err(xerr)?;
            } else if let Some(d) = date {
                ws.write_string(row, col, d.to_string()).map_err(xerr)?;
            }
        }
        ws.write_string(row, 6, FACILITIES[r.facility].1.to_uppercase())
            .map_err(xerr)?;
        ids.push(id);
    }
    wb.save(path).map_err(xerr)?;
    Ok(ids)
}

fn project_toml(defs: &[ListDef], options: &Options) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# recuento project generated by `recuento synth --persons {} --seed {}`.\n# Synthetic data only: no real person is named in these lists.\n# Every key is documented in docs/configuration.md.\n\n[project]\nname = \"Synthetic scenario (seed {})\"\nseed = {}\n",
        options.persons, options.seed, options.seed, options.seed
    );
    let columns: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::from([
        (
            "ong_legal",
            vec![
                ("record_id", "Código"),
                ("full_name", "Nombre completo"),
                ("sex", "Sexo"),
                ("age", "Edad"),
                ("event_date", "Fecha de fallecimiento"),
                ("facility", "Centro penal"),
                ("national_id", "DUI"),
            ],
        ),
        (
            "movimiento",
            vec![
                ("given_names", "Nombres"),
                ("surname1", "Primer apellido"),
                ("surname2", "Segundo apellido"),
                ("alias", "Apodo"),
                ("birth_date", "Fecha de nacimiento"),
                ("event_date", "Fecha de muerte"),
                ("facility", "Penal"),
                ("place", "Municipio"),
            ],
        ),
        (
            "prensa",
            vec![
                ("full_name", "NOMBRE"),
                ("age", "EDAD"),
                ("event_date", "FECHA"),
                ("facility", "LUGAR"),
            ],
        ),
        (
            "extracto",
            vec![
                ("record_id", "ID_INTERNO"),
                ("given_names", "NOMBRES"),
                ("surnames", "APELLIDOS"),
                ("national_id", "DUI"),
                ("birth_date", "FECHA_NAC"),
                ("event_date", "FECHA_DEFUNCION"),
                ("facility", "CENTRO"),
            ],
        ),
        (
            "familias",
            vec![
                ("record_id", "id"),
                ("full_name", "nombre_completo"),
                ("sex", "sexo"),
                ("birth_date", "fecha_nacimiento"),
                ("event_date", "fecha_deceso"),
                ("place", "municipio"),
                ("national_id", "dui"),
            ],
        ),
    ]);
    for d in defs {
        let _ = writeln!(
            s,
            "[[lists]]\nname = \"{}\"\nfile = \"lists/{}\"\norganisation = \"{}\"\ncollection = \"{}\"\nperiod = \"2022-03/2025-10\"",
            d.name, d.file, d.organisation, d.collection
        );
        if d.name == "movimiento" {
            s.push_str("# This file is Windows-1252; `auto` would detect it too.\nencoding = \"windows-1252\"\n");
        }
        s.push_str("[lists.columns]\n");
        for (field, header) in &columns[d.name] {
            let _ = writeln!(s, "{field} = \"{header}\"");
        }
        s.push('\n');
    }
    s.push_str("[linkage]\n# Pairs at or above this match probability are linked into one person.\nthreshold = 0.9\n\n[estimation]\nmax_order = 2\ncriterion = \"aic\"\n# Also the Bayesian latent-class model (absorbs heterogeneity of capture).\nlcmcr = true\n");
    s
}

use std::fmt::Write as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let o = Options {
            persons: 200,
            seed: 9,
            lists: 5,
        };
        generate(&o, a.path()).unwrap();
        generate(&o, b.path()).unwrap();
        for f in [
            "truth.csv",
            "scenario.json",
            "recuento.toml",
            "lists/ong_legal.csv",
            "lists/movimiento_victimas.csv",
            "lists/prensa.csv",
            "lists/familias.tsv",
            "lists/extracto_penitenciario.xlsx",
        ] {
            assert_eq!(
                fs::read(a.path().join(f)).unwrap(),
                fs::read(b.path().join(f)).unwrap(),
                "{f}"
            );
        }
    }

    #[test]
    fn scenario_counts_are_consistent() {
        let d = tempfile::tempdir().unwrap();
        let s = generate(
            &Options {
                persons: 500,
                seed: 3,
                lists: 5,
            },
            d.path(),
        )
        .unwrap();
        assert!(
            s.observed < s.persons && s.observed > s.persons / 3,
            "{s:?}"
        );
        let truth = fs::read_to_string(d.path().join("truth.csv")).unwrap();
        let records: usize = s.lists.iter().map(|l| l.records).sum();
        assert_eq!(truth.lines().count(), records + 1);
        let movimiento = fs::read(d.path().join("lists/movimiento_victimas.csv")).unwrap();
        assert!(
            std::str::from_utf8(&movimiento).is_err(),
            "movimiento must be Windows-1252"
        );
        assert!(
            movimiento.ends_with(b"\r\n") && movimiento.split(|&b| b == b'\n').count() > 2,
            "movimiento must have Windows line endings"
        );
        assert!(
            fs::read(d.path().join("lists/prensa.csv"))
                .unwrap()
                .starts_with(&[0xEF, 0xBB, 0xBF])
        );
    }
}
