//! The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).
//!
//! [`render`] takes a [`ReportData`] and returns the page. Plots are drawn as SVG by hand: they
//! are simple bars and intervals, and a plotting library would need font files for text layout
//! on a machine that may have none; the output here is byte-for-byte deterministic.
//!
//! ```
//! let data = recuento_report::ReportData::default();
//! let html = recuento_report::render(&data);
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! ```
#![deny(missing_docs)]

use std::fmt::Write;

use recuento_model::CaptureHistories;
use recuento_mse::Estimate;
use std::collections::BTreeSet;
// Counts of people are written the same way everywhere.
use recuento_mse::people as fmt_n;
use recuento_mse::people_es;
use serde::Serialize;

/// One list as the report shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListInfo {
    /// Name in `recuento.toml`.
    pub name: String,
    /// Who keeps it.
    pub organisation: String,
    /// How it was collected.
    pub collection: String,
    /// Period covered.
    pub period: String,
    /// File path.
    pub file: String,
    /// BLAKE3 of the file.
    pub hash: String,
    /// Encoding detected or declared.
    pub encoding: String,
    /// Data rows in the file.
    pub rows_read: usize,
    /// Rows imported.
    pub rows_imported: usize,
    /// Problems reported.
    pub problems: usize,
    /// Distinct people on the list after linkage.
    pub persons: usize,
}

/// m and u of one comparison level.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LevelParams {
    /// Comparison name.
    pub comparison: String,
    /// Level name.
    pub level: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

/// Everything the report shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportData {
    /// Project name.
    pub project: String,
    /// Software version.
    pub version: String,
    /// The lists.
    pub lists: Vec<ListInfo>,
    /// Capture histories of the linked people.
    pub histories: CaptureHistories,
    /// Records linked.
    pub records: usize,
    /// Candidate pairs scored.
    pub candidate_pairs: u64,
    /// Pairs at or above the threshold.
    pub links: usize,
    /// People found.
    pub persons: usize,
    /// Match-probability threshold.
    pub threshold: f64,
    /// Blocking rules and their pair counts.
    pub blocking: Vec<(String, u64)>,
    /// Prior match probability among candidates.
    pub lambda: f64,
    /// EM iterations and whether it converged.
    pub em: (usize, bool),
    /// m/u per level.
    pub parameters: Vec<LevelParams>,
    /// Cluster size distribution (index 0 = people with one record; last = 10+).
    pub cluster_sizes: Vec<usize>,
    /// Clusters flagged for review, in words.
    pub flagged: Vec<String>,
    /// The same in Spanish, one for each (empty when the linkage predates them).
    pub flagged_es: Vec<String>,
    /// The estimates.
    pub estimates: Vec<Estimate>,
    /// Leave-one-list-out estimates (empty when not run).
    pub sensitivity: Vec<Estimate>,
    /// Alternative linkages: (threshold, links, people, headline estimate); empty when not run.
    pub linkage_alternatives: Vec<(f64, usize, usize, Estimate)>,
    /// Linkages drawn at random from the match probabilities: (links, people, headline
    /// estimate); empty when not run.
    pub linkage_draws: Vec<(usize, usize, Estimate)>,
    /// The reproducibility manifest as pretty JSON.
    pub manifest: String,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.headline{font-size:1.3em;background:#f7f7ff;border-left:4px solid #446;padding:.8em 1em}
.headline-es{font-size:1.1em;background:#f7f7ff;border-left:4px solid #446;padding:.6em 1em;margin-top:-.6em}
.warn{background:#fff8e5;border-left:4px solid #c90;padding:.4em .8em;margin:.3em 0}
.warn .es{color:#444;font-style:italic}
p.es{color:#444;font-style:italic;margin-top:-.6em}h1 .es,h2 .es,h3 .es,th .es{font-weight:normal;color:#555}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:.85em}svg text{font-family:inherit}";

/// Renders the report.
pub fn render(d: &ReportData) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>recuento report: {}</title><style>{STYLE}</style></head><body>\n<h1>recuento report: {}</h1>\n<p>recuento {} · {} lists · {} records · {} people found</p>\n{}",
        esc(&d.project),
        esc(&d.project),
        esc(&d.version),
        d.lists.len(),
        fmt_n(d.records as f64),
        fmt_n(d.persons as f64),
        es_p(&format!(
            "Informe de recuento: {} listas · {} registros · {} personas encontradas",
            d.lists.len(),
            people_es(d.records as f64),
            people_es(d.persons as f64)
        ))
    );
    headline(&mut h, d);
    lists_section(&mut h, d);
    overlap_section(&mut h, d);
    linkage_section(&mut h, d);
    estimate_section(&mut h, d);
    sensitivity_section(&mut h, d);
    linkage_uncertainty_section(&mut h, d);
    section(
        &mut h,
        "manifest",
        ("Reproducibility manifest", "Manifiesto de reproducibilidad"),
        (
            "Anyone holding the same input files (checked by their BLAKE3 hashes), this configuration, the same software version and seed gets byte-identical outputs.",
            "Quien tenga los mismos archivos de entrada (comprobados por sus huellas BLAKE3), esta configuración, la misma versión del programa y la misma semilla obtiene exactamente los mismos resultados, byte a byte.",
        ),
    );
    let _ = write!(h, "<pre>{}</pre>\n</body></html>\n", esc(&d.manifest));
    h
}

/// A section's title and first paragraph, each in English with its Spanish after it.
fn section(h: &mut String, id: &str, (title, titulo): (&str, &str), (intro, es): (&str, &str)) {
    let _ = write!(
        h,
        "<h2 id=\"{id}\">{}{}</h2><p>{}</p>{}",
        esc(title),
        es_h(titulo),
        esc(intro),
        es_p(es)
    );
}

/// A section's title in Spanish, after the English one, for the documentation teams.
fn es_h(title: &str) -> String {
    format!(" <span class=\"es\" lang=\"es\">· {}</span>", esc(title))
}

/// A paragraph in Spanish, under the English one, for the documentation teams.
fn es_p(text: &str) -> String {
    format!("<p class=\"es\" lang=\"es\">{}</p>", esc(text))
}

/// A table's column name in English, then in Spanish.
fn th2(en: &str, es: &str) -> String {
    format!(
        "<th>{}<br><span class=\"es\" lang=\"es\">{}</span></th>",
        esc(en),
        esc(es)
    )
}

/// The total first, in English and then in Spanish for the documentation teams who read the
/// report. The sections' titles, explanations and column names are in both languages too; the
/// statistician's details (models, graphs, sampler diagnostics, the linkage model's
/// parameters) are in English.
fn headline(h: &mut String, d: &ReportData) {
    let Some(e) = d.estimates.iter().find(|e| e.stratum == "all") else {
        return;
    };
    match (e.estimate, e.lower, e.upper) {
        (Some(x), Some(lo), Some(hi)) => {
            let _ = writeln!(
                h,
                "<p class=\"headline\">Estimated total: <strong>{}</strong> people (95% interval {} to {}), of whom {} are on at least one list. Method: {} ({}).</p>",
                fmt_n(x),
                fmt_n(lo),
                fmt_n(hi),
                fmt_n(e.observed as f64),
                esc(&e.method),
                esc(&e.model)
            );
            let _ = writeln!(
                h,
                "<p class=\"headline-es\" lang=\"es\">Total estimado: <strong>{}</strong> personas (intervalo del 95\u{a0}%: de {} a {}), de las cuales {} figuran en al menos una lista. Método: {}.</p>",
                people_es(x),
                people_es(lo),
                people_es(hi),
                people_es(e.observed as f64),
                esc(&method_es(&e.method, &e.model))
            );
            // What says which number to publish belongs next to the number; the estimates'
            // section repeats it with the other warnings.
            for (i, w) in e.warnings.iter().enumerate() {
                if recuento_mse::read_before_publishing(w) {
                    let _ = writeln!(
                        h,
                        "<div class=\"warn\"><strong>Before publishing this total{}:</strong> {}{}</div>",
                        esc(" / antes de publicar este total"),
                        esc(w),
                        spanish_below(e.warnings_es.get(i))
                    );
                }
            }
        }
        _ => {
            let _ = writeln!(
                h,
                "<p class=\"headline\">No estimate of the total can be given: {}</p>",
                esc(&e.warnings.join("; "))
            );
            let _ = writeln!(
                h,
                "<p class=\"headline-es\" lang=\"es\">Con estos datos no se puede estimar el total: {}. Personas que figuran en al menos una lista: {}.</p>",
                // An estimate.json from before the Spanish warnings has the English only.
                esc(&if e.warnings_es.is_empty() {
                    &e.warnings
                } else {
                    &e.warnings_es
                }
                .join("; ")),
                people_es(e.observed as f64)
            );
        }
    }
}

/// The headline's method in Spanish, with its name in the outputs after it.
fn method_es(method: &str, model: &str) -> String {
    let what = match method {
        "loglinear-averaged" => {
            // recuento-mse writes "average of N models weighted by AIC".
            let models = model
                .strip_prefix("average of ")
                .and_then(|rest| rest.split_once(" models weighted by "));
            match models {
                Some((n, criterion)) => {
                    format!("promedio de {n} modelos log-lineales ponderados por {criterion}")
                }
                None => "promedio de modelos log-lineales".to_string(),
            }
        }
        "loglinear-best" => format!("el modelo log-lineal de mejor ajuste ({model})"),
        "dga" => "promedio bayesiano de modelos gráficos descomponibles".to_string(),
        "lcmcr" => "modelo bayesiano de clases latentes".to_string(),
        "chapman" => "estimador de Chapman (dos listas)".to_string(),
        _ => model.to_string(),
    };
    format!("{what} ({method})")
}

fn lists_section(h: &mut String, d: &ReportData) {
    let _ = write!(
        h,
        "<h2 id=\"lists\">Lists{}</h2><table><tr>",
        es_h("Listas")
    );
    for (en, es) in [
        ("List", "Lista"),
        ("Organisation", "Organización"),
        ("Collection", "Recopilación"),
        ("Period", "Periodo"),
        ("Rows read", "Filas leídas"),
        ("Imported", "Importadas"),
        ("Problems reported", "Problemas señalados"),
        ("People", "Personas"),
    ] {
        h.push_str(&th2(en, es));
    }
    h.push_str("</tr>\n");
    for l in &d.lists {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&l.name),
            esc(&l.organisation),
            esc(&l.collection),
            esc(&l.period),
            fmt_n(l.rows_read as f64),
            fmt_n(l.rows_imported as f64),
            fmt_n(l.problems as f64),
            fmt_n(l.persons as f64)
        );
    }
    h.push_str("</table>\n");
    let max = d
        .lists
        .iter()
        .map(|l| l.rows_imported)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let row_h = 26.0;
    let height = row_h * d.lists.len() as f64 + 30.0;
    let _ = write!(
        h,
        "<svg role=\"img\" aria-label=\"Records and people per list\" width=\"720\" height=\"{height}\" viewBox=\"0 0 720 {height}\">"
    );
    for (i, l) in d.lists.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let wr = 380.0 * l.rows_imported as f64 / max;
        let wp = 380.0 * l.persons as f64 / max;
        let _ = write!(
            h,
            "<text x=\"150\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"13\">{}</text><rect x=\"160\" y=\"{y:.1}\" width=\"{wr:.1}\" height=\"10\" fill=\"#9ab\"/><rect x=\"160\" y=\"{:.1}\" width=\"{wp:.1}\" height=\"10\" fill=\"#446\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{} records · {} people</text>",
            y + 15.0,
            esc(&l.name),
            y + 10.0,
            165.0 + wr.max(wp),
            y + 15.0,
            fmt_n(l.rows_imported as f64),
            fmt_n(l.persons as f64)
        );
    }
    h.push_str("</svg>\n");
}

fn overlap_section(h: &mut String, d: &ReportData) {
    let t = d.histories.lists.len();
    if t == 0 {
        return;
    }
    let counts = d.histories.pattern_counts(None);
    section(
        h,
        "overlaps",
        ("Overlaps between lists", "Coincidencias entre listas"),
        (
            "People on both lists (diagonal: people on the list).",
            "Personas que están en las dos listas (en la diagonal, las personas de cada lista).",
        ),
    );
    h.push_str("<table><tr><th></th>");
    for n in &d.histories.lists {
        let _ = write!(h, "<th>{}</th>", esc(n));
    }
    h.push_str("</tr>\n");
    for i in 0..t {
        let _ = write!(h, "<tr><th>{}</th>", esc(&d.histories.lists[i]));
        for j in 0..t {
            let mask = (1usize << i) | (1usize << j);
            let n: u64 = (0..counts.len())
                .filter(|p| p & mask == mask)
                .map(|p| counts[p])
                .sum();
            let _ = write!(h, "<td class=\"num\">{}</td>", fmt_n(n as f64));
        }
        h.push_str("</tr>\n");
    }
    let _ = write!(
        h,
        "</table>\n<p>The most common capture patterns (which lists saw the same person):</p>{}",
        es_p("Los patrones de captura más frecuentes (qué listas registraron a la misma persona):")
    );
    let mut patterns: Vec<(usize, u64)> = (1..counts.len())
        .map(|p| (p, counts[p]))
        .filter(|p| p.1 > 0)
        .collect();
    patterns.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    patterns.truncate(20);
    let max = patterns.first().map_or(1, |p| p.1).max(1) as f64;
    let col_w = 32.0;
    let width = 160.0 + col_w * patterns.len() as f64 + 20.0;
    let bar_h = 140.0;
    let height = bar_h + 30.0 + 18.0 * t as f64;
    let _ = write!(
        h,
        "<svg role=\"img\" aria-label=\"Capture patterns\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">"
    );
    for (k, (p, n)) in patterns.iter().enumerate() {
        let x = 160.0 + col_w * k as f64;
        let bh = bar_h * *n as f64 / max;
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#446\"><title>{} people</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + 4.0,
            bar_h - bh + 14.0,
            col_w - 8.0,
            n,
            x + col_w / 2.0,
            bar_h - bh + 11.0,
            n
        );
        for i in 0..t {
            let on = p & (1 << i) != 0;
            let _ = write!(
                h,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"/>",
                x + col_w / 2.0,
                bar_h + 28.0 + 18.0 * i as f64,
                if on { "#222" } else { "#ddd" }
            );
        }
    }
    for (i, name) in d.histories.lists.iter().enumerate() {
        let _ = write!(
            h,
            "<text x=\"150\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            bar_h + 32.0 + 18.0 * i as f64,
            esc(name)
        );
    }
    h.push_str("</svg>\n");
}

fn linkage_section(h: &mut String, d: &ReportData) {
    let _ = writeln!(
        h,
        "<h2 id=\"linkage\">Linkage{}</h2><p>{} records were compared in {} candidate pairs; {} pairs reached a match probability of at least {} and joined the records into {} people. The model (Fellegi–Sunter: u from random record pairs, m by EM on comparison patterns within each blocking rule) puts the probability that two records picked at random are the same person at {:.2e}; EM ran {} iterations{}.</p>",
        es_h("Vinculación"),
        fmt_n(d.records as f64),
        fmt_n(d.candidate_pairs as f64),
        fmt_n(d.links as f64),
        d.threshold,
        fmt_n(d.persons as f64),
        d.lambda,
        d.em.0,
        if d.em.1 {
            " and converged"
        } else {
            " and did not converge: treat links with care"
        }
    );
    h.push_str(&es_p(&format!(
        "Se compararon {} registros en {} pares candidatos; {} pares alcanzaron una probabilidad de coincidencia de al menos {} y unieron los registros en {} personas. El modelo (Fellegi–Sunter) estima en {:.2e} la probabilidad de que dos registros tomados al azar sean la misma persona; el algoritmo EM hizo {} iteraciones {}.",
        people_es(d.records as f64),
        people_es(d.candidate_pairs as f64),
        people_es(d.links as f64),
        d.threshold.to_string().replace('.', ","),
        people_es(d.persons as f64),
        d.lambda,
        d.em.0,
        if d.em.1 {
            "y convergió"
        } else {
            "y no convergió: trate los vínculos con cuidado"
        }
    )));
    let _ = write!(
        h,
        "<table><tr>{}{}</tr>",
        th2("Blocking rule", "Regla de bloqueo"),
        th2("Pairs", "Pares")
    );
    for (r, n) in &d.blocking {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(r),
            fmt_n(*n as f64)
        );
    }
    let _ = write!(
        h,
        "</table>\n<p>People by number of records:</p>{}<table><tr>",
        es_p("Personas según su número de registros:")
    );
    for i in 0..d.cluster_sizes.len() {
        let _ = write!(
            h,
            "<th>{}{}</th>",
            i + 1,
            if i + 1 == d.cluster_sizes.len() {
                "+"
            } else {
                ""
            }
        );
    }
    h.push_str("</tr><tr>");
    for n in &d.cluster_sizes {
        let _ = write!(h, "<td class=\"num\">{}</td>", fmt_n(*n as f64));
    }
    h.push_str("</tr></table>\n");
    if !d.flagged.is_empty() {
        let _ = write!(
            h,
            "<div class=\"warn\">{} (<span class=\"es\" lang=\"es\">{}</span>):<ul>",
            match d.flagged.len() {
                1 => "1 person is flagged for review".to_string(),
                n => format!("{} people are flagged for review", fmt_n(n as f64)),
            },
            match d.flagged.len() {
                1 => "1 persona marcada para revisión".to_string(),
                n => format!("{} personas marcadas para revisión", people_es(n as f64)),
            }
        );
        for (i, f) in d.flagged.iter().enumerate().take(20) {
            let _ = write!(
                h,
                "<li>{}{}</li>",
                esc(f),
                spanish_below(d.flagged_es.get(i))
            );
        }
        h.push_str("</ul></div>\n");
    }
    h.push_str("<details><summary>Model parameters (m and u by comparison level)</summary><table><tr><th>Comparison</th><th>Level</th><th>m</th><th>u</th><th>Match weight</th></tr>");
    for p in &d.parameters {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:+.2}</td></tr>",
            esc(&p.comparison),
            esc(&p.level),
            p.m,
            p.u,
            (p.m / p.u).log2()
        );
    }
    h.push_str("</table></details>\n");
}

fn estimate_section(h: &mut String, d: &ReportData) {
    section(
        h,
        "estimate",
        ("Estimate of the total", "Estimación del total"),
        (
            "Multiple systems estimation uses how the lists overlap to estimate how many people no list recorded. Every number comes with its 95% interval.",
            "La estimación por sistemas múltiples usa las coincidencias entre las listas para estimar cuántas personas no registró ninguna lista. Cada cifra va con su intervalo del 95\u{a0}%.",
        ),
    );
    estimate_table(h, ("Stratum", "Estrato"), &d.estimates);
    // Interval plot of the estimates for all strata together. M0 and the Mh models (every list
    // equally likely to list a person, which human-rights lists rarely are) stay in the table
    // with their test of that assumption, out of the plot, whose scale they would stretch.
    let all: Vec<&Estimate> = d
        .estimates
        .iter()
        .filter(|e| e.stratum == "all" && e.estimate.is_some())
        .filter(|e| !e.assumes_equal_lists())
        .collect();
    if let Some(first) = all.first() {
        let lo = first.observed as f64;
        let hi = all
            .iter()
            .filter_map(|e| e.upper.or(e.estimate))
            .fold(lo, f64::max)
            * 1.05;
        let x = |v: f64| 170.0 + 500.0 * (v - lo) / (hi - lo).max(1.0);
        let height = 40.0 + 30.0 * all.len() as f64;
        let _ = write!(
            h,
            "<svg role=\"img\" aria-label=\"Estimates with 95% intervals\" width=\"720\" height=\"{height:.0}\" viewBox=\"0 0 720 {height:.0}\">"
        );
        let _ = write!(
            h,
            "<line x1=\"170\" y1=\"8\" x2=\"170\" y2=\"{:.0}\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/><text x=\"174\" y=\"{:.0}\" font-size=\"11\" fill=\"#c33\">observed {}</text>",
            height - 20.0,
            height - 6.0,
            fmt_n(lo)
        );
        for (i, e) in all.iter().enumerate() {
            let y = 20.0 + 30.0 * i as f64;
            let (el, eh) = (e.lower.unwrap_or(lo), e.upper.unwrap_or(hi));
            let _ = write!(
                h,
                "<text x=\"160\" y=\"{:.0}\" text-anchor=\"end\" font-size=\"12\">{}</text><line x1=\"{:.1}\" y1=\"{y:.0}\" x2=\"{:.1}\" y2=\"{y:.0}\" stroke=\"#446\" stroke-width=\"3\"/><circle cx=\"{:.1}\" cy=\"{y:.0}\" r=\"5\" fill=\"#446\"/><text x=\"{:.1}\" y=\"{:.0}\" font-size=\"11\">{}</text>",
                y + 4.0,
                esc(e.label()),
                x(el),
                x(eh),
                x(e.estimate.unwrap_or(lo)),
                x(eh) + 6.0,
                y + 4.0,
                fmt_n(e.estimate.unwrap_or(lo))
            );
        }
        h.push_str("</svg>\n");
    }
    diagnostics(h, &d.estimates, "all");
    // A warning several estimates share (the model uncertainty of the log-linear average and
    // of the best model, say) is shown once, under the first estimate that carries it.
    let mut shown = BTreeSet::new();
    warnings(
        h,
        d.estimates.iter().filter(|e| e.stratum == "all"),
        &mut shown,
    );
    // Each stratum, and the totals summed over them, folded: the same checks and warnings as
    // the total's (a list left out, why a stratum has no estimate, why a sum cannot be made).
    let mut strata: Vec<&str> = Vec::new();
    for e in d.estimates.iter().filter(|e| e.stratum != "all") {
        if !strata.contains(&e.stratum.as_str()) {
            strata.push(&e.stratum);
        }
    }
    if !strata.is_empty() {
        let _ = writeln!(h, "<h3>By stratum{}</h3>", es_h("Por estrato"));
    }
    for stratum in strata {
        let of: Vec<&Estimate> = d
            .estimates
            .iter()
            .filter(|e| e.stratum == stratum)
            .collect();
        let headline = of.first().map_or("none".to_string(), |e| {
            e.estimate.map_or("no estimate".to_string(), |x| {
                format!("{} ({})", fmt_n(x), e.method)
            })
        });
        let _ = write!(
            h,
            "<details><summary>{}: {}; people seen {}</summary>",
            esc(stratum),
            esc(&headline),
            fmt_n(of.first().map_or(0.0, |e| e.observed as f64))
        );
        diagnostics(h, &d.estimates, stratum);
        warnings(h, of.into_iter(), &mut BTreeSet::new());
        h.push_str("</details>\n");
    }
}

/// The Spanish of a line, on a line of its own under the English, for the documentation teams
/// (nothing when a file from before the Spanish has none).
fn spanish_below(es: Option<&String>) -> String {
    es.map_or(String::new(), |es| {
        format!("<br><span class=\"es\" lang=\"es\">{}</span>", esc(es))
    })
}

/// The warnings of `estimates`, each under its estimate's label with its Spanish below, leaving
/// out those already in `shown` (and adding the others to it).
fn warnings<'a>(
    h: &mut String,
    estimates: impl Iterator<Item = &'a Estimate>,
    shown: &mut BTreeSet<String>,
) {
    for e in estimates {
        for (i, w) in e.warnings.iter().enumerate() {
            if !shown.insert(w.clone()) {
                continue;
            }
            let es = spanish_below(e.warnings_es.get(i));
            let _ = write!(
                h,
                "<div class=\"warn\"><strong>{}:</strong> {}{es}</div>",
                esc(e.label()),
                esc(w)
            );
        }
    }
}

/// What a statistician checks before trusting the total of `stratum`: the capture-pattern
/// table against the best model's fitted values, the models and graphs that carry the averages,
/// and the samplers' convergence.
fn diagnostics(h: &mut String, estimates: &[Estimate], stratum: &str) {
    let all: Vec<&Estimate> = estimates.iter().filter(|e| e.stratum == stratum).collect();
    if let Some(best) = all.iter().find(|e| !e.cells.is_empty()) {
        let _ = write!(
            h,
            "<details><summary>Capture patterns: people observed on each combination of lists, and the counts fitted by the best log-linear model ({})</summary><table><tr><th>Pattern ({})</th><th>Observed</th><th>Fitted</th></tr>",
            esc(&best.model),
            esc(&best.lists.join(", "))
        );
        for c in &best.cells {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td></tr>",
                esc(&c.pattern),
                c.observed,
                c.fitted
            );
        }
        if let Some((deviance, df)) = best.deviance {
            let _ = write!(
                h,
                "<tr><td colspan=\"3\">Deviance {deviance:.2} on {df} degrees of freedom</td></tr>"
            );
        }
        h.push_str("</table></details>\n");
    }
    for e in &all {
        if e.models.is_empty() {
            continue;
        }
        let (what, weight) = if e.method == "dga" {
            (
                "Graphs of dependence between lists",
                "Posterior probability",
            )
        } else {
            ("Log-linear models in the average", "Weight")
        };
        let _ = write!(
            h,
            "<details><summary>{what} ({}): the ones that carry the estimate</summary><table><tr><th>Model</th><th>{weight}</th><th>Estimate under it</th></tr>",
            esc(&e.method)
        );
        for (model, w, x) in e.models.iter().take(10) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{w:.3}</td><td class=\"num\">{}</td></tr>",
                esc(model),
                fmt_n(*x)
            );
        }
        h.push_str("</table></details>\n");
    }
    for e in &all {
        if let Some(m) = &e.mcmc {
            let _ = write!(
                h,
                "<p>{}: {} chains of {} sweeps{}, {} latent classes at most, seed {}; split R-hat of N {:.3} (near 1 when the chains agree), effective draws of N {:.0}{}.</p>",
                esc(&e.method),
                m.chains,
                fmt_n(m.sweeps as f64),
                burn_in_of(m),
                m.classes,
                m.seed,
                m.r_hat,
                m.ess,
                m.ppp.map_or(String::new(), |p| format!("; posterior predictive p {p:.2} (near 0 when the model does not reproduce the overlaps between lists)"))
            );
        }
    }
}

/// ` (the first B discarded as burn-in)`, or nothing for files that did not record it.
fn burn_in_of(m: &recuento_mse::Mcmc) -> String {
    if m.burn_in == 0 {
        String::new()
    } else {
        format!(
            " (the first {} discarded as burn-in)",
            fmt_n(m.burn_in as f64)
        )
    }
}

fn sensitivity_section(h: &mut String, d: &ReportData) {
    if d.sensitivity.is_empty() {
        return;
    }
    section(
        h,
        "sensitivity",
        (
            "Sensitivity: leaving one list out",
            "Sensibilidad: sin cada lista",
        ),
        (
            "Every method again without each list in turn (people seen only by that list count as unseen). A total that moves far when one list is left out rests on that list's overlaps with the others. When the latent-class model is on, it is also run again with another prior on the lists' capture probabilities (Beta(1/2, 1/2), which gives more room to people whom lists rarely see): if that total or its upper end moves far, the latent-class interval rests on its prior, not on the lists.",
            "Cada método otra vez sin cada lista, una por una (las personas que solo esa lista registró cuentan como no registradas). Un total que cambia mucho al quitar una lista depende de las coincidencias de esa lista con las demás. Con el modelo de clases latentes, se repite también con otra distribución a priori para la probabilidad de que cada lista registre a una persona (Beta(1/2, 1/2), que da más cabida a las personas que las listas rara vez registran): si ese total o su extremo superior cambia mucho, el intervalo del modelo de clases latentes depende de su distribución a priori, no de las listas.",
        ),
    );
    estimate_table(h, ("Run", "Ejecución"), &d.sensitivity);
    // What the runs add to the warnings above: how far the other prior moved the latent-class
    // interval, which lists a run could not do without.
    let mut shown: BTreeSet<String> = d
        .estimates
        .iter()
        .flat_map(|e| e.warnings.iter().cloned())
        .collect();
    let mut runs: Vec<&str> = Vec::new();
    for e in &d.sensitivity {
        if !runs.contains(&e.stratum.as_str()) {
            runs.push(&e.stratum);
        }
    }
    // The other prior's verdict is the point of its run, so it is shown; a run without a list
    // repeats most warnings with other numbers, so its own are folded.
    for run in runs {
        let mut one = String::new();
        warnings(
            &mut one,
            d.sensitivity.iter().filter(|e| e.stratum == run),
            &mut shown,
        );
        if one.is_empty() {
            continue;
        }
        if run == recuento_mse::PRIOR_SENSITIVITY_STRATUM {
            let _ = write!(h, "<p>{}:</p>{one}", esc(run));
        } else {
            let _ = write!(
                h,
                "<details><summary>Warnings of the run {}</summary>{one}</details>",
                esc(run)
            );
        }
    }
}

/// A table of estimates, one row each; `first` names the first column (stratum or run), in
/// English and Spanish.
fn estimate_table(h: &mut String, first: (&str, &str), estimates: &[Estimate]) {
    h.push_str("<table><tr>");
    for (en, es) in [
        first,
        ("Method", "Método"),
        ("Model", "Modelo"),
        ("Observed", "Registradas"),
        ("Estimate", "Estimación"),
        ("95% interval", "Intervalo del 95\u{a0}%"),
    ] {
        h.push_str(&th2(en, es));
    }
    h.push_str("</tr>\n");
    for e in estimates {
        let est = e.estimate.map_or("none".to_string(), fmt_n);
        let ci = match (e.lower, e.upper) {
            (Some(lo), Some(hi)) => format!("{} – {}", fmt_n(lo), fmt_n(hi)),
            (Some(lo), None) if e.estimate.is_some() => format!("{} – unbounded", fmt_n(lo)),
            _ => "—".into(),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{est}</td><td class=\"num\">{ci}</td></tr>",
            esc(&e.stratum),
            esc(&e.method),
            esc(&e.model),
            fmt_n(e.observed as f64)
        );
    }
    h.push_str("</table>\n");
}

fn linkage_uncertainty_section(h: &mut String, d: &ReportData) {
    if d.linkage_alternatives.is_empty() {
        linkage_draws_paragraph(h, d);
        return;
    }
    let totals: Vec<f64> = d
        .linkage_alternatives
        .iter()
        .filter_map(|a| a.3.estimate)
        .collect();
    let lo = totals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = totals.iter().copied().fold(0.0, f64::max);
    let _ = write!(
        h,
        "<h2 id=\"linkage-uncertainty\">Linkage uncertainty{}</h2><p>The same scored pairs linked at other match-probability thresholds give other sets of people, and other totals: from {} to {} across the thresholds below. A lower threshold merges more records (fewer people, usually a lower total); a higher one splits more.</p>{}",
        es_h("Incertidumbre de la vinculación"),
        fmt_n(lo),
        fmt_n(hi),
        es_p(&format!(
            "Los mismos pares puntuados, vinculados con otros umbrales de probabilidad de coincidencia, dan otros conjuntos de personas y otros totales: de {} a {} con los umbrales de abajo. Un umbral más bajo une más registros (menos personas, por lo general un total más bajo); uno más alto separa más.",
            people_es(lo),
            people_es(hi)
        ))
    );
    h.push_str("<table><tr>");
    for (en, es) in [
        ("Threshold", "Umbral"),
        ("Links", "Vínculos"),
        ("People", "Personas"),
        ("Estimate", "Estimación"),
        ("95% interval", "Intervalo del 95\u{a0}%"),
    ] {
        h.push_str(&th2(en, es));
    }
    h.push_str("</tr>\n");
    for (threshold, links, persons, e) in &d.linkage_alternatives {
        let ci = match (e.lower, e.upper) {
            (Some(lo), Some(hi)) => format!("{} – {}", fmt_n(lo), fmt_n(hi)),
            _ => "—".into(),
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{threshold}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{ci}</td></tr>",
            fmt_n(*links as f64),
            fmt_n(*persons as f64),
            e.estimate.map_or("none".to_string(), fmt_n)
        );
    }
    h.push_str("</table>\n");
    linkage_draws_paragraph(h, d);
}

/// What the linkages drawn from the match probabilities do to the total, in one paragraph.
fn linkage_draws_paragraph(h: &mut String, d: &ReportData) {
    let estimates: Vec<&Estimate> = d.linkage_draws.iter().map(|x| &x.2).collect();
    let mut totals: Vec<f64> = estimates.iter().filter_map(|e| e.estimate).collect();
    if totals.is_empty() {
        return;
    }
    totals.sort_by(f64::total_cmp);
    let people = d.linkage_draws.iter().map(|x| x.1);
    let (people_lo, people_hi) = (people.clone().min().unwrap_or(0), people.max().unwrap_or(0));
    let lower = estimates
        .iter()
        .filter_map(|e| e.lower)
        .fold(f64::INFINITY, f64::min);
    let upper = estimates.iter().filter_map(|e| e.upper).fold(0.0, f64::max);
    if d.linkage_alternatives.is_empty() {
        let _ = write!(
            h,
            "<h2 id=\"linkage-uncertainty\">Linkage uncertainty{}</h2>",
            es_h("Incertidumbre de la vinculación")
        );
    }
    let _ = write!(
        h,
        "<p>Drawn from the match probabilities: in {} linkages drawn at random, each scored pair linked with its own match probability, the people found ranged from {} to {} and the total from {} to {} (median {}); their 95% intervals together span {} to {}. If that span is much wider than the headline interval, linkage errors matter as much as sampling: review the uncertain pairs.</p>",
        d.linkage_draws.len(),
        fmt_n(people_lo as f64),
        fmt_n(people_hi as f64),
        fmt_n(totals[0]),
        fmt_n(totals[totals.len() - 1]),
        fmt_n(totals[totals.len() / 2]),
        fmt_n(lower),
        fmt_n(upper)
    );
    h.push_str(&es_p(&format!(
        "Vinculaciones sorteadas según las probabilidades de coincidencia: en {} vinculaciones sorteadas, cada par puntuado unido con su propia probabilidad de coincidencia, las personas encontradas fueron de {} a {} y el total de {} a {} (mediana {}); sus intervalos del 95\u{a0}% abarcan juntos de {} a {}. Si ese rango es mucho más ancho que el intervalo principal, los errores de vinculación pesan tanto como el muestreo: revise los pares dudosos.",
        d.linkage_draws.len(),
        people_es(people_lo as f64),
        people_es(people_hi as f64),
        people_es(totals[0]),
        people_es(totals[totals.len() - 1]),
        people_es(totals[totals.len() / 2]),
        people_es(lower),
        people_es(upper)
    )));
    if let Some(p) = recuento_mse::pool_linkages(estimates.iter().copied()) {
        let _ = write!(
            h,
            "<p>Pooled over the {} linkages by Rubin's rules (each linkage one plausible version of the unknown true linkage, as an imputation is of missing data): total {}, 95% interval {} – {}, which carries linkage uncertainty as well as sampling; {:.0}% of its variance comes from the differences between linkages.</p>",
            p.draws,
            fmt_n(p.estimate),
            fmt_n(p.lower),
            fmt_n(p.upper),
            100.0 * p.linkage_share
        );
        h.push_str(&es_p(&format!(
            "Combinadas las {} vinculaciones con las reglas de Rubin (cada vinculación es una versión plausible de la vinculación verdadera, que no se conoce, como lo es una imputación de datos que faltan): total {}, intervalo del 95\u{a0}% de {} a {}, que recoge la incertidumbre de la vinculación además de la del muestreo; el {:.0}\u{a0}% de su varianza se debe a las diferencias entre vinculaciones.",
            p.draws,
            people_es(p.estimate),
            people_es(p.lower),
            people_es(p.upper),
            100.0 * p.linkage_share
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_escapes_and_is_self_contained() {
        let d = ReportData {
            project: "<script>x</script>".into(),
            lists: vec![ListInfo {
                name: "a&b".into(),
                rows_imported: 10,
                persons: 8,
                ..Default::default()
            }],
            ..Default::default()
        };
        let html = render(&d);
        assert!(!html.contains("<script>"));
        assert!(html.contains("a&amp;b"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    /// Each stratum's warnings, and the other prior's verdict, are in the report, in both
    /// languages.
    #[test]
    fn strata_and_sensitivity_runs_show_their_warnings() {
        // Two strata; in `sex=F` list `c` has one person, below the minimum of 5.
        let mut rows = Vec::new();
        for (sex, counts) in [
            ("M", [0u64, 120, 90, 40, 70, 30, 25, 12]),
            ("F", [0u64, 60, 45, 20, 1, 0, 0, 0]),
        ] {
            for (h, &n) in counts.iter().enumerate().skip(1) {
                if n > 0 {
                    rows.push((vec![sex.to_string()], h as u16, n));
                }
            }
        }
        let histories = recuento_model::CaptureHistories {
            lists: vec!["a".into(), "b".into(), "c".into()],
            strata: vec!["sex".into()],
            rows,
        };
        let options = recuento_mse::Options {
            min_list_count: 5,
            lcmcr: Some(recuento_mse::lcmcr::LcmcrOptions {
                burn_in: 1_000,
                samples: 5_000,
                target_ess: 0.0,
                ..Default::default()
            }),
            ..Default::default()
        };
        let estimates = recuento_mse::estimate(&histories, &options);
        let sensitivity = recuento_mse::prior_sensitivity(&histories, &options, &estimates);
        assert!(!sensitivity.is_empty());
        let html = render(&ReportData {
            estimates,
            sensitivity,
            ..Default::default()
        });
        assert!(
            html.contains(
                "<h3>By stratum <span class=\"es\" lang=\"es\">· Por estrato</span></h3>"
            )
        );
        assert!(html.contains("sex=F: "));
        assert!(html.contains("list &#39;c&#39; has 1 person in this stratum"));
        assert!(html.contains("la lista &#39;c&#39; tiene 1 persona en este estrato"));
        assert!(html.contains("with this prior the upper end of the latent-class interval moves"));
        assert!(html.contains("con esta distribución a priori"));
    }

    /// Lists where most people are rarely listed and a few are on nearly every list (drawn as in
    /// Manrique-Vallier 2016): the log-linear models do not fit, and what to publish instead is
    /// said next to the total, before anything else, in both languages.
    #[test]
    fn what_to_publish_instead_is_said_next_to_the_total() {
        // Capture patterns of lists l1 … l5, with their people.
        let table = "00001 39 00010 200 00011 9 00100 129 00101 2 00110 25 00111 8 01000 49 \
            01001 3 01010 11 01011 6 01100 6 01101 1 01110 16 01111 33 10000 41 10010 9 \
            10011 4 10100 2 10110 3 10111 11 11010 10 11011 20 11100 1 11110 26 11111 54";
        let words: Vec<&str> = table.split_whitespace().collect();
        let rows = words
            .chunks(2)
            .map(|w| {
                // The first list is the lowest bit.
                let pattern = w[0]
                    .chars()
                    .enumerate()
                    .filter(|(_, c)| *c == '1')
                    .map(|(j, _)| 1u16 << j)
                    .sum();
                (vec![], pattern, w[1].parse().unwrap())
            })
            .collect();
        let histories = recuento_model::CaptureHistories {
            lists: (1..=5).map(|j| format!("l{j}")).collect(),
            strata: vec![],
            rows,
        };
        let options = recuento_mse::Options {
            lcmcr: Some(recuento_mse::lcmcr::LcmcrOptions {
                burn_in: 1_000,
                samples: 10_000,
                target_ess: 0.0,
                ..Default::default()
            }),
            ..Default::default()
        };
        let html = render(&ReportData {
            estimates: recuento_mse::estimate(&histories, &options),
            ..Default::default()
        });
        let said = html
            .find("Before publishing this total")
            .expect("a warning next to the total");
        assert!(said < html.find("id=\"lists\"").unwrap());
        let line = &html[said..said + html[said..].find("</div>").unwrap()];
        assert!(line.contains("prefer its total"), "{line}");
        assert!(line.contains("prefiera su total"), "{line}");
        // Not every warning goes there: the model uncertainty stays with the estimates.
        assert!(!line.contains("the ten best-fitting models"), "{line}");
    }

    #[test]
    fn people_flagged_for_review_are_said_in_both_languages() {
        let html = render(&ReportData {
            flagged: vec!["person 3: birth years 1970 and 1990 are 20 years apart".into()],
            flagged_es: vec!["persona 3: los años de nacimiento 1970 y 1990 distan 20 años".into()],
            ..Default::default()
        });
        assert!(html.contains("1 person is flagged for review"));
        assert!(html.contains("1 persona marcada para revisión"));
        assert!(html.contains("<span class=\"es\" lang=\"es\">persona 3: los años de nacimiento"));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(fmt_n(1234567.4), "1,234,567");
        assert_eq!(fmt_n(999.0), "999");
        // Spanish: four digits together, groups of three apart from five digits on.
        assert_eq!(people_es(2000.0), "2000");
        assert_eq!(people_es(-2000.0), "-2000");
        assert_eq!(people_es(12500.0), "12\u{a0}500");
        assert_eq!(people_es(1234567.0), "1\u{a0}234\u{a0}567");
    }

    #[test]
    fn the_headline_method_is_named_in_spanish() {
        assert_eq!(
            method_es(
                "loglinear-averaged",
                "average of 1024 models weighted by AIC"
            ),
            "promedio de 1024 modelos log-lineales ponderados por AIC (loglinear-averaged)"
        );
    }
}
