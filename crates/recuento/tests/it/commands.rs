//! Small commands: init, estimate from a capture-history file, eval.

use crate::util::{assert_clear_failure, recuento, synth_dedupe, synthetic_settings, text};

#[test]
fn init_writes_a_commented_config_that_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let o = recuento(tmp.path(), &["init", "proj"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let toml = std::fs::read_to_string(tmp.path().join("proj/recuento.toml")).unwrap();
    assert!(toml.contains("# "));
    let config = recuento::model::ProjectConfig::from_toml(&toml).unwrap();
    // New projects run the latent-class model, to which the estimate points when the
    // log-linear models do not fit.
    assert!(config.estimation.lcmcr);
    // It refuses to overwrite.
    assert_clear_failure(
        &recuento(tmp.path(), &["init", "proj"]),
        &["already exists"],
    );
    // Importing before adding the list names the missing file.
    assert_clear_failure(
        &recuento(&tmp.path().join("proj"), &["import"]),
        &["lists/ong.csv"],
    );
}

#[test]
fn estimate_from_a_capture_history_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("h.csv");
    std::fs::write(
        &f,
        "a,b,c,count\n1,0,0,120\n0,1,0,110\n0,0,1,100\n1,1,0,40\n1,0,1,35\n0,1,1,30\n1,1,1,12\n",
    )
    .unwrap();
    // `recuento estimate --histories h.csv` with these arguments.
    let estimate = |args: &[&str]| {
        let mut all = vec!["estimate", "--histories", f.to_str().unwrap()];
        all.extend_from_slice(args);
        recuento(tmp.path(), &all)
    };
    let o = estimate(&["--json"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v[0];
    assert_eq!(e["stratum"], "all");
    assert_eq!(e["observed"], 447);
    // The warnings, and the same in Spanish, one for one.
    let (en, es) = (
        e["warnings"].as_array().unwrap(),
        e["warnings_es"].as_array().unwrap(),
    );
    assert!(!en.is_empty() && en.len() == es.len(), "{e}");
    let (lo, x, hi) = (
        e["lower"].as_f64().unwrap(),
        e["estimate"].as_f64().unwrap(),
        e["upper"].as_f64().unwrap(),
    );
    assert!(447.0 <= lo && lo <= x && x <= hi, "{lo} {x} {hi}");
    // The latent-class model, on request, with its sampler diagnostics and seed.
    let o = estimate(&["--lcmcr", "--sweeps", "20000", "--seed", "3", "--json"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == "lcmcr")
        .expect("lcmcr estimate");
    assert_eq!(l["mcmc"]["seed"], 3);
    // --sweeps sets the sweeps kept per chain (after the 10,000 of burn-in), at least: the
    // chains go on, doubling, up to 20 times as long, until 400 effective draws.
    let kept = l["mcmc"]["sweeps"].as_u64().unwrap() - 10_000;
    assert!(
        kept % 20_000 == 0 && (kept / 20_000).is_power_of_two() && kept <= 400_000,
        "{l}"
    );
    assert!(
        l["mcmc"]["ess"].as_f64().unwrap() >= 400.0 || kept > 200_000,
        "{l}"
    );
    assert!(
        l["lower"].as_f64().unwrap() >= 447.0 && l["mcmc"]["r_hat"].as_f64().unwrap() < 1.1,
        "{l}"
    );
    assert_clear_failure(
        &estimate(&["--lcmcr", "--sweeps", "10"]),
        &["--sweeps must be between"],
    );
    // The truncation K, the chains and the burn-in, as LCMCR's users set them, are recorded.
    let o = estimate(&[
        "--lcmcr",
        "--classes",
        "5",
        "--chains",
        "3",
        "--burn-in",
        "2000",
        "--sweeps",
        "5000",
        "--json",
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = &v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == "lcmcr")
        .expect("lcmcr estimate")["mcmc"];
    assert_eq!(
        (&m["classes"], &m["chains"], &m["burn_in"]),
        (&5.into(), &3.into(), &2000.into())
    );
    assert_eq!((m["sweeps"].as_u64().unwrap() - 2000) % 5000, 0, "{m}");
    assert_clear_failure(
        &estimate(&["--lcmcr", "--classes", "0"]),
        &[
            "--classes must be between 1 and 100, not 0",
            "--classes debe estar entre",
        ],
    );
    // Sampler settings without the sampler are refused, not ignored.
    assert_clear_failure(&estimate(&["--classes", "5"]), &["add --lcmcr"]);
    // Options of the --histories mode are refused, not ignored, in a project.
    assert_clear_failure(
        &recuento(tmp.path(), &["estimate", "--sweeps", "200000"]),
        &["--histories"],
    );
    std::fs::write(&f, "a,b\n1,2\n").unwrap();
    assert_clear_failure(&estimate(&[]), &["line 2", "expected 0 or 1"]);
}

/// A published table from the command line (Cormack, Chang & Smith 2000, Table 3a; four lists,
/// 215 people): the model they and Rcapture give 218 for, whose fit puts nobody in some empty
/// combinations of lists, is fitted and said to be on the boundary; the all-pairs model, for
/// which Rcapture prints over a million people, gives no number.
#[test]
fn estimate_reproduces_a_published_table() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cormack.csv");
    std::fs::write(
        &f,
        "death,ntof,wcc,mosh,count\n1,1,1,1,72\n1,1,1,0,5\n1,1,0,1,29\n1,1,0,0,53\n\
         1,0,1,1,24\n1,0,1,0,3\n1,0,0,1,12\n1,0,0,0,14\n0,1,0,0,1\n0,0,0,1,2\n",
    )
    .unwrap();
    let path = f.to_str().unwrap();
    let chosen = |model: &str| {
        let o = recuento(
            tmp.path(),
            &["estimate", "--histories", path, "--model", model, "--json"],
        );
        assert!(o.status.success(), "{:?}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .find(|e| e["method"] == "loglinear-chosen")
            .cloned()
            .expect("the chosen model")
    };
    let e = chosen("death:ntof + death:wcc + wcc:mosh");
    assert_eq!(e["observed"], 215);
    assert_eq!(e["estimate"].as_f64().unwrap().round(), 218.0, "{e}");
    assert_eq!(e["deviance"][1], 7);
    assert!(e["stderr"].as_f64().unwrap() > 0.0, "{e}");
    assert!(e["warnings"].to_string().contains("edge"), "{e}");
    let e = chosen("death:ntof + death:wcc + death:mosh + ntof:wcc + ntof:mosh + wcc:mosh");
    assert!(e["estimate"].is_null(), "{e}");
    assert!(
        e["warnings"].to_string().contains("cannot be fitted"),
        "{e}"
    );
}

/// Issue 3: every method from the command line, with the diagnostics a statistician reads.
#[test]
fn issue_3_estimate_prints_every_method_with_its_diagnostics() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("h.csv");
    // Four lists; `prensa` copies much of `ong` (referral), with strata by sex.
    let mut csv = String::from("ong,prensa,familias,legal,sex,count\n");
    for (pattern, m, w) in [
        ("1000", 90, 60),
        ("0100", 40, 30),
        ("0010", 80, 50),
        ("0001", 70, 45),
        ("1100", 60, 40),
        ("1010", 20, 15),
        ("1001", 18, 12),
        ("0110", 8, 6),
        ("0101", 7, 5),
        ("0011", 15, 10),
        ("1110", 12, 8),
        ("1101", 10, 7),
        ("1011", 4, 3),
        ("0111", 2, 2),
        ("1111", 3, 2),
    ] {
        let bits: Vec<String> = pattern.chars().map(|c| c.to_string()).collect();
        csv.push_str(&format!("{},M,{m}\n", bits.join(",")));
        csv.push_str(&format!("{},F,{w}\n", bits.join(",")));
    }
    std::fs::write(&f, csv).unwrap();
    let path = f.to_str().unwrap();
    let o = recuento(
        tmp.path(),
        &["estimate", "--histories", path, "--strata", "sex", "--json"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = v.as_array().unwrap();
    let find = |method: &str, stratum: &str| {
        all.iter()
            .find(|e| (e["method"] == method || e["model"] == method) && e["stratum"] == stratum)
            .unwrap_or_else(|| panic!("no {method} for {stratum}"))
    };
    // dga: the graph with the ong–prensa edge carries the most weight; strata and their sum.
    let dga = find("dga", "all");
    let top = dga["models"][0][0].as_str().unwrap();
    assert!(top.contains("ong:prensa"), "{top}");
    for stratum in ["sex=M", "sex=F", "all (sum of strata)"] {
        let e = find("dga", stratum);
        assert!(e["lower"].as_f64().unwrap() <= e["estimate"].as_f64().unwrap());
    }
    // Chao's lower bound, said to be one.
    let chao = find("Mth Chao (LB)", "all");
    assert!(chao["warnings"].to_string().contains("lower bound"));
    assert!(chao["estimate"].as_f64().unwrap() >= 734.0);
    // `recuento estimate --histories FILE --strata sex` with more arguments.
    let estimate = |more: &[&str]| {
        let mut args = vec!["estimate", "--histories", path, "--strata", "sex"];
        args.extend_from_slice(more);
        recuento(tmp.path(), &args)
    };
    let json = |more: &[&str]| -> Vec<serde_json::Value> {
        let mut more = more.to_vec();
        more.push("--json");
        let o = estimate(&more);
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    // Without --json: the table, the capture patterns with fitted values, the top graphs.
    let o = estimate(&[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for needle in [
        "dga",
        "Mth Chao (LB)",
        "capture patterns",
        "1100",
        "most probable graphs",
        "warning (dga)",
        // The documentation team reads the warnings in Spanish too, under the English.
        "aviso (dga): el promedio sobre grafos descomponibles",
    ] {
        assert!(out.contains(needle), "output lacks {needle:?}:\n{out}");
    }
    // A model of one's choice, with its profile-likelihood interval; a misspelt list is refused.
    let chosen = json(&["--model", "ong:prensa + familias:legal"])
        .into_iter()
        .find(|e| e["method"] == "loglinear-chosen" && e["stratum"] == "all")
        .expect("the chosen model");
    assert_eq!(
        chosen["model"],
        "independence + ong:prensa + familias:legal"
    );
    assert_eq!(chosen["interval"], "profile likelihood");
    assert_clear_failure(
        &estimate(&["--model", "ong:presa"]),
        &["--model", "'presa'", "ong, prensa, familias, legal"],
    );
    // --no-dga leaves it out; a bad prior is refused in words.
    assert!(json(&["--no-dga"]).iter().all(|e| e["method"] != "dga"));
    assert_clear_failure(
        &estimate(&["--dga-delta", "0"]),
        &["--dga-delta must be a positive number"],
    );
}

/// `recuento estimate ... | head -1`: the closed pipe ends the command quietly, not in a panic.
#[test]
fn a_closed_pipe_is_not_a_failure() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("h.csv");
    // Enough strata that the output overflows the pipe's buffer (64 KiB) after `head` leaves.
    let mut csv = String::from("a,b,c,region,count\n");
    for region in 0..150 {
        for (pattern, n) in [
            ("1,0,0", 120),
            ("0,1,0", 110),
            ("0,0,1", 100),
            ("1,1,0", 40),
            ("1,0,1", 35),
            ("0,1,1", 30),
            ("1,1,1", 12),
        ] {
            csv.push_str(&format!("{pattern},r{region},{n}\n"));
        }
    }
    std::fs::write(&f, csv).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_recuento"))
        .args([
            "estimate",
            "--histories",
            f.to_str().unwrap(),
            "--strata",
            "region",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?} {err}", out.status);
}

#[test]
fn eval_counts_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("t.csv"),
        "list,record_id,person_id\na,1,x\nb,1,x\nb,2,y\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("p.csv"),
        "list,record_id,person_id\na,1,P1\nb,1,P2\nb,2,P2\n",
    )
    .unwrap();
    let o = recuento(
        tmp.path(),
        &["eval", "--truth", "t.csv", "--persons", "p.csv", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["true_pairs"], 1);
    assert_eq!(v["predicted_pairs"], 1);
    assert_eq!(v["correct_pairs"], 0);
}

/// Two runs on the same file give the same files, byte for byte, although pairs are compared
/// several batches at once. The file is large enough (20,000 records) that the records table
/// spans several batches and partitions, where arrival order could differ between runs.
#[test]
fn link_files_outputs_are_identical_run_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    synth_dedupe(tmp.path(), "20000", "5", "d");
    let settings = synthetic_settings();
    for out in ["a", "b"] {
        let o = recuento(
            tmp.path(),
            &[
                "link-files",
                "--settings",
                settings.to_str().unwrap(),
                "--out",
                out,
                "d/dedupe.csv",
            ],
        );
        assert!(o.status.success(), "{:?}", text(&o));
    }
    for f in ["pairs.parquet", "clusters.csv", "model.json"] {
        assert_eq!(
            std::fs::read(tmp.path().join("a").join(f)).unwrap(),
            std::fs::read(tmp.path().join("b").join(f)).unwrap(),
            "{f} differs between two identical runs"
        );
    }
}

#[test]
fn link_files_dedupes_a_synthetic_file_and_reuses_its_saved_model() {
    let tmp = tempfile::tempdir().unwrap();
    synth_dedupe(tmp.path(), "3000", "7", "d");
    let settings = synthetic_settings();
    let run = |settings: &str, out: &str| {
        let o = recuento(
            tmp.path(),
            &[
                "link-files",
                "--settings",
                settings,
                "--out",
                out,
                "--truth-column",
                "person_id",
                "--json",
                "d/dedupe.csv",
            ],
        );
        assert!(o.status.success(), "{:?}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let v = run(settings.to_str().unwrap(), "out");
    // People whose records contradict each other are listed (none here: clusters are precise).
    assert!(v["flagged"].is_array(), "{v}");
    assert_eq!(
        v["flagged"].as_array().map(Vec::len),
        v["flagged_es"].as_array().map(Vec::len),
        "{v}"
    );
    let e = &v["evaluation"];
    assert!(e["blocking_recall"].as_f64().unwrap() > 0.97, "{e}");
    assert!(e["clusters"]["f1"].as_f64().unwrap() > 0.95, "{e}");
    let (found, truth) = (
        e["clusters"]["predicted_persons"].as_f64().unwrap(),
        e["clusters"]["true_persons"].as_f64().unwrap(),
    );
    assert!(
        (found / truth - 1.0).abs() < 0.05,
        "{found} people vs {truth}"
    );
    for f in [
        "pairs.parquet",
        "clusters.csv",
        "model.json",
        "linkage.json",
        "import_problems.csv",
    ] {
        assert!(tmp.path().join("out").join(f).exists(), "{f}");
    }
    // The saved model holds the settings and the trained parameters: scoring the same file with
    // it gives the same people, without training.
    let again = run("out/model.json", "out2");
    assert_eq!(again["persons"], v["persons"]);
    assert!(again["model"].as_str().unwrap().starts_with("saved model"));
    assert_eq!(
        std::fs::read(tmp.path().join("out/clusters.csv")).unwrap(),
        std::fs::read(tmp.path().join("out2/clusters.csv")).unwrap()
    );
    // On another file the saved λ, m and u are used as they are; --retrain trains again.
    synth_dedupe(tmp.path(), "2000", "8", "e");
    let other = |extra: &[&str], out: &str| {
        let mut args = vec!["link-files", "--settings", "out/model.json", "--out", out];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--json", "e/dedupe.csv"]);
        let o = recuento(tmp.path(), &args);
        assert!(o.status.success(), "{:?}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let frozen = other(&[], "out3");
    assert_eq!(frozen["lambda"], v["lambda"]);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out/model.json")).unwrap()).unwrap();
    let resaved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out3/model.json")).unwrap())
            .unwrap();
    assert_eq!(saved["model"]["m"], resaved["model"]["m"]);
    let retrained = other(&["--retrain"], "out4");
    assert_ne!(retrained["lambda"], v["lambda"]);
    assert_eq!(retrained["model"], "trained on these files");
    // A saved model that does not fit its settings (a level removed by hand) is refused.
    let mut broken = saved.clone();
    broken["model"]["m"][0].as_array_mut().unwrap().pop();
    std::fs::write(
        tmp.path().join("broken.json"),
        serde_json::to_string(&broken).unwrap(),
    )
    .unwrap();
    assert_clear_failure(
        &recuento(
            tmp.path(),
            &[
                "link-files",
                "--settings",
                "broken.json",
                "--out",
                "out5",
                "e/dedupe.csv",
            ],
        ),
        &["the saved model was trained with other comparisons"],
    );
}

/// Running out of the memory recuento may use is explained with what to change, not reported as
/// an internal error.
#[test]
fn link_files_explains_running_out_of_memory() {
    let tmp = tempfile::tempdir().unwrap();
    synth_dedupe(tmp.path(), "2000", "3", "d");
    let settings = synthetic_settings();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_recuento"))
        .args([
            "link-files",
            "--settings",
            settings.to_str().unwrap(),
            "--out",
            "out",
            "d/dedupe.csv",
        ])
        .current_dir(tmp.path())
        .env("RECUENTO_LOG", "warn")
        .env("RECUENTO_MEMORY_LIMIT_MB", "1")
        .output()
        .unwrap();
    assert_clear_failure(
        &o,
        &[
            "more memory than recuento may use (1 MB)",
            "RECUENTO_MEMORY_LIMIT_MB",
        ],
    );
    assert!(!text(&o).1.contains("please report"));
}

#[test]
fn link_files_names_a_missing_column() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.csv"), "id,nombre\n1,Ana\n2,Ana\n").unwrap();
    std::fs::write(
        tmp.path().join("s.toml"),
        "unique_id_column = \"id\"\nblocking_rules = [[\"apellido\"]]\n[[comparisons]]\ncolumns = [\"apellido\"]\nmethod = \"exact\"\n",
    )
    .unwrap();
    assert_clear_failure(
        &recuento(tmp.path(), &["link-files", "--settings", "s.toml", "a.csv"]),
        &["a.csv", "no column 'apellido'", "id, nombre"],
    );
    std::fs::write(tmp.path().join("bad.toml"), "unique_id_column = \"id\"\nblocking_rules = [[\"nombre\"]]\n[[comparisons]]\ncolumns = [\"nombre\"]\nmethod = \"soundex\"\n").unwrap();
    assert_clear_failure(
        &recuento(
            tmp.path(),
            &["link-files", "--settings", "bad.toml", "a.csv"],
        ),
        &["bad.toml", "soundex", "line 5"],
    );
}

#[test]
fn link_files_refuses_an_exploding_rule_naming_its_key_in_words() {
    // Blocking keys are held as numbers; the refusal still shows the key's text, including for
    // an asymmetric condition (`nombre=apellido`), which shares one numbering on both sides.
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,nombre,apellido,x\n");
    for i in 0..30 {
        csv.push_str(&format!("{i},Ana,Pérez,1\n"));
    }
    csv.push_str("30,Pérez,Ana,1\n");
    std::fs::write(tmp.path().join("a.csv"), csv).unwrap();
    let settings = |rule: &str| {
        format!(
            "unique_id_column = \"id\"\nmax_block_size = 20\nblocking_rules = [{rule}]\n[[comparisons]]\ncolumns = [\"x\"]\nmethod = \"exact\"\n"
        )
    };
    std::fs::write(
        tmp.path().join("s.toml"),
        settings("[\"nombre\", \"apellido\"]"),
    )
    .unwrap();
    assert_clear_failure(
        &recuento(tmp.path(), &["link-files", "--settings", "s.toml", "a.csv"]),
        &["30 records", "\"Ana / Pérez\"", "max_block_size = 20"],
    );
    std::fs::write(tmp.path().join("t.toml"), settings("[\"nombre=apellido\"]")).unwrap();
    assert_clear_failure(
        &recuento(tmp.path(), &["link-files", "--settings", "t.toml", "a.csv"]),
        &["30 records", "\"Ana\""],
    );
}

/// clap's own messages are in English; a mistake on the command line is said in Spanish under
/// them, and help is not a mistake.
#[test]
fn command_line_mistakes_are_said_in_spanish_too() {
    let dir = tempfile::tempdir().unwrap();
    let o = recuento(dir.path(), &["estimat"]);
    assert_clear_failure(
        &o,
        &[
            "unrecognized subcommand 'estimat'",
            "En español: la orden 'estimat' no existe. ¿Quiso decir 'estimate'?",
        ],
    );
    let o = recuento(
        dir.path(),
        &["estimate", "--histories", "h.csv", "--sweeps", "diez"],
    );
    assert_clear_failure(
        &o,
        &[
            "En español: 'diez' no es un valor válido de --sweeps <SWEEPS> (se esperaba un número entero",
        ],
    );
    let o = recuento(dir.path(), &["estimate", "--lcmcr"]);
    assert_clear_failure(
        &o,
        &["En español: falta un argumento obligatorio: --histories"],
    );
    let o = recuento(
        dir.path(),
        &["estimate", "--histories", "h.csv", "--max-order", "0"],
    );
    assert_clear_failure(&o, &["0 is not in 1..=5", "(debe ser un número de 1 a 5)"]);
    let o = recuento(dir.path(), &["--help"]);
    let (out, err) = text(&o);
    assert!(o.status.success() && out.contains("Usage:"), "{out}{err}");
    assert!(!err.contains("En español"), "{err}");
}

/// `link-files` writes values a spreadsheet would take for formulas with a `'` in front, in
/// `clusters.csv` and `import_problems.csv` alike.
#[test]
fn link_files_outputs_never_carry_a_spreadsheet_formula() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("a.csv"),
        "id,nombre,fecha\n=1+1,Ana López,2023-01-05\n-7,Ana López,2023-01-05\nP3,Luis Pérez,2023-02-01\nP4,Luis Pérez,2023-02-01\n@x,Rosa Martínez,\nP8,Juan Ruiz,2023-04-04,=HYPERLINK(\"http://x\")\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("s.toml"),
        "unique_id_column = \"id\"\nblocking_rules = [[\"fecha\"]]\n[[comparisons]]\ncolumns = [\"nombre\"]\nmethod = \"exact\"\n",
    )
    .unwrap();
    let o = recuento(
        tmp.path(),
        &[
            "link-files",
            "--settings",
            "s.toml",
            "--out",
            "out",
            "a.csv",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let clusters = std::fs::read_to_string(tmp.path().join("out/clusters.csv")).unwrap();
    for id in ["'=1+1", "'-7", "'@x"] {
        assert!(clusters.contains(&format!("a,{id},")), "{id}: {clusters}");
    }
    let problems = std::fs::read_to_string(tmp.path().join("out/import_problems.csv")).unwrap();
    assert!(
        problems.contains("a.csv,7,,\"'=HYPERLINK(\"\"http://x\"\")\",yes"),
        "{problems}"
    );
}
