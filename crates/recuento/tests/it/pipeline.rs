//! The whole path on a small synthetic scenario, checked against its truth.

use crate::util::{recuento, synth, text};

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn run_recovers_the_truth_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    synth(tmp.path(), &a, 800, 11, 5);
    let o = recuento(tmp.path(), &["run", "--project", a.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    for f in [
        "pairs.parquet",
        "persons.csv",
        "estimate.json",
        "report.html",
        "manifest.json",
        "import_report.csv",
        "records.parquet",
    ] {
        assert!(a.join("out").join(f).exists(), "missing out/{f}");
    }

    // Every problem in the import report names the line of the file that holds its value, in
    // the lists saved with Windows line endings too (movimiento: Windows-1252, `\r\n`).
    let mut report = csv::Reader::from_path(a.join("out/import_report.csv")).unwrap();
    let mut checked = 0;
    for row in report.records() {
        let row = row.unwrap();
        let (file, line, value) = (&row[1], row[2].parse::<usize>().unwrap(), &row[4]);
        if value.is_empty() || value.contains(" | ") || file.ends_with(".xlsx") {
            continue;
        }
        let bytes = std::fs::read(a.join(file)).unwrap();
        let raw = bytes.split(|&b| b == b'\n').nth(line - 1).unwrap();
        // Windows-1252 is Latin-1 for every letter of a Spanish name.
        let text = String::from_utf8(raw.to_vec())
            .unwrap_or_else(|_| raw.iter().map(|&b| char::from(b)).collect());
        assert!(
            text.contains(value),
            "{file} line {line}: {text:?} lacks {value:?}"
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} problems checked");

    // Linkage against the truth.
    let o = recuento(
        tmp.path(),
        &[
            "eval",
            "--truth",
            a.join("truth.csv").to_str().unwrap(),
            "--persons",
            a.join("out/persons.csv").to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success());
    let eval: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f1 = eval["f1"].as_f64().unwrap();
    assert!(f1 >= 0.95, "pairwise F1 {f1}");
    assert_eq!(
        eval["unmatched_records"], 0,
        "every record is in persons.csv"
    );
    let predicted = eval["predicted_persons"].as_f64().unwrap();
    let truth_people = eval["true_persons"].as_f64().unwrap();
    assert!(
        (predicted / truth_people - 1.0).abs() < 0.03,
        "{predicted} vs {truth_people}"
    );

    // The estimate's interval contains the true total.
    let scenario = read_json(&a.join("scenario.json"));
    let total = scenario["persons"].as_f64().unwrap();
    let estimates = read_json(&a.join("out/estimate.json"));
    let headline = &estimates[0];
    for key in ["method", "model", "stratum", "estimate", "lower", "upper"] {
        assert!(headline.get(key).is_some(), "estimate.json lacks {key}");
    }
    let (lo, hi) = (
        headline["lower"].as_f64().unwrap(),
        headline["upper"].as_f64().unwrap(),
    );
    assert!(
        lo <= total && total <= hi,
        "true total {total} outside [{lo}, {hi}]"
    );

    // The report is one self-contained file.
    let html = std::fs::read_to_string(a.join("out/report.html")).unwrap();
    assert!(
        html.contains("Estimated total")
            && html.contains("Total estimado")
            // The Spanish method is read from recuento-mse's "average of N models weighted by".
            && html.contains("modelos log-lineales ponderados por AIC")
            // Every warning on an estimate has its Spanish under it.
            && html
                .split("<div class=\"warn\"><strong>")
                .skip(1)
                .all(|w| w.split("</div>").next().unwrap().contains("<br><span class=\"es\" lang=\"es\">"))
            && html.contains("los modelos log-lineales suponen una población cerrada")
            && html.contains("<svg")
            && html.contains("config_blake3")
    );
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    // The sections' titles, explanations and column names are in Spanish too.
    for es in [
        "Informe de recuento: 5 listas",
        "· Coincidencias entre listas</span>",
        "<p class=\"es\" lang=\"es\">Se compararon ",
        "· Estimación del total</span>",
        "Filas leídas",
        "Intervalo del 95\u{a0}%",
        "· Manifiesto de reproducibilidad</span>",
    ] {
        assert!(html.contains(es), "{es}");
    }

    // Same inputs, settings and seed: byte-identical outputs.
    let b = tmp.path().join("b");
    synth(tmp.path(), &b, 800, 11, 5);
    assert!(
        recuento(tmp.path(), &["run", "--project", b.to_str().unwrap()])
            .status
            .success()
    );
    for f in [
        "persons.csv",
        "estimate.json",
        "pairs.parquet",
        "manifest.json",
        "report.html",
        "capture_histories.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join("out").join(f)).unwrap(),
            std::fs::read(b.join("out").join(f)).unwrap(),
            "out/{f} differs between identical runs"
        );
    }
}

#[test]
fn stages_run_one_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p");
    synth(tmp.path(), &p, 300, 5, 3);
    let ps = p.to_str().unwrap();
    // Estimating before linking says what to run first.
    let o = recuento(tmp.path(), &["estimate", "-p", ps]);
    crate::util::assert_clear_failure(&o, &["recuento link"]);
    for stage in ["import", "link", "estimate", "report"] {
        let o = recuento(tmp.path(), &[stage, "-p", ps]);
        assert!(o.status.success(), "{stage}: {:?}", text(&o));
    }
    // Leave-one-list-out sensitivity lands in out/sensitivity.json and in the report.
    let o = recuento(
        tmp.path(),
        &["estimate", "-p", ps, "--sensitivity", "--json"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["stratum"] == "all (without prensa)")
    );
    // The synthetic project runs the latent-class model: it is run again with another prior.
    assert!(v.as_array().unwrap().iter().any(
        |e| e["method"] == "lcmcr" && e["stratum"] == recuento::mse::PRIOR_SENSITIVITY_STRATUM
    ));
    assert!(p.join("out/sensitivity.json").exists());
    // Linkage uncertainty: one alternative per threshold, fewer people at lower thresholds.
    let o = recuento(tmp.path(), &["estimate", "-p", ps, "--linkage-sensitivity"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let alts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.join("out/linkage_sensitivity.json")).unwrap(),
    )
    .unwrap();
    let alts = alts.as_array().unwrap();
    assert_eq!(
        alts.len(),
        6,
        "0.5 0.7 0.8 0.9 0.95 0.99 (0.9 is the project's own)"
    );
    let people: Vec<u64> = alts
        .iter()
        .map(|a| a["persons"].as_u64().unwrap())
        .collect();
    assert!(people.windows(2).all(|w| w[0] <= w[1]), "{people:?}");
    // And linkages drawn from the match probabilities: 20 of them, people between what the
    // loosest and the strictest thresholds find, drawn again the same (seeded).
    let draws_path = p.join("out/linkage_draws.json");
    let draws_text = std::fs::read_to_string(&draws_path).unwrap();
    let draws: serde_json::Value = serde_json::from_str(&draws_text).unwrap();
    let draws = draws.as_array().unwrap();
    assert_eq!(draws.len(), 20);
    for d in draws {
        let persons = d["persons"].as_u64().unwrap();
        assert!(
            people[0] <= persons + 5 && persons <= people[people.len() - 1] + 5,
            "{persons} outside {people:?}"
        );
        assert_eq!(d["estimate"]["method"], "loglinear-averaged");
    }
    let links: std::collections::BTreeSet<u64> =
        draws.iter().map(|d| d["links"].as_u64().unwrap()).collect();
    assert!(
        links.len() > 1,
        "every draw linked the same pairs: {links:?}"
    );
    let o = recuento(tmp.path(), &["estimate", "-p", ps, "--linkage-sensitivity"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(std::fs::read_to_string(&draws_path).unwrap(), draws_text);
    // The draws pooled into one interval that carries linkage uncertainty, at least as wide as
    // the narrowest draw's (as wide, to rounding, when every draw gives the same total).
    let estimates: Vec<recuento::mse::Estimate> = draws
        .iter()
        .map(|d| serde_json::from_value(d["estimate"].clone()).unwrap())
        .collect();
    let pooled = recuento::mse::pool_linkages(&estimates).expect("pooled");
    let narrowest = estimates
        .iter()
        .map(|e| e.upper.unwrap() - e.lower.unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(
        pooled.upper - pooled.lower >= narrowest - 1e-6,
        "{pooled:?} {:?}",
        &estimates[..2]
    );
    assert!(
        text(&o).0.contains(&format!(
            "pooled over the 20 linkages (Rubin's rules): {}",
            recuento::mse::people(pooled.estimate)
        )),
        "{}",
        text(&o).0
    );
    assert!(recuento(tmp.path(), &["report", "-p", ps]).status.success());
    let html = std::fs::read_to_string(p.join("out/report.html")).unwrap();
    assert!(html.contains("leaving one list out") && html.contains("all (without prensa)"));
    assert!(html.contains("Linkage uncertainty"));
    assert!(html.contains("Drawn from the match probabilities: in 20 linkages"));
    assert!(html.contains("Pooled over the 20 linkages by Rubin's rules"));
    assert!(html.contains("Combinadas las 20 vinculaciones con las reglas de Rubin"));
    assert!(html.contains("· Sensibilidad: sin cada lista</span>"));
    let persons = std::fs::read_to_string(p.join("out/persons.csv")).unwrap();
    assert!(persons.starts_with("list,record_id,person_id\n"));
    // A list without an identifier column gets 1-based row numbers.
    assert!(
        persons.lines().any(|l| l.starts_with("movimiento,1,")),
        "{}",
        &persons[..200]
    );
}
