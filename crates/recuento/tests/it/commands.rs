//! Small commands: init, estimate from a capture-history file, eval.

use crate::util::{assert_clear_failure, recuento, text};

#[test]
fn init_writes_a_commented_config_that_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let o = recuento(tmp.path(), &["init", "proj"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let toml = std::fs::read_to_string(tmp.path().join("proj/recuento.toml")).unwrap();
    assert!(toml.contains("# "));
    recuento::model::ProjectConfig::from_toml(&toml).unwrap();
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
    let o = recuento(
        tmp.path(),
        &["estimate", "--histories", f.to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v[0];
    assert_eq!(e["stratum"], "all");
    assert_eq!(e["observed"], 447);
    let (lo, x, hi) = (
        e["lower"].as_f64().unwrap(),
        e["estimate"].as_f64().unwrap(),
        e["upper"].as_f64().unwrap(),
    );
    assert!(447.0 <= lo && lo <= x && x <= hi, "{lo} {x} {hi}");
    // The latent-class model, on request, with its sampler diagnostics and seed.
    let o = recuento(
        tmp.path(),
        &[
            "estimate",
            "--histories",
            f.to_str().unwrap(),
            "--lcmcr",
            "--seed",
            "3",
            "--json",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == "lcmcr")
        .expect("lcmcr estimate");
    assert_eq!(l["mcmc"]["seed"], 3);
    assert!(
        l["lower"].as_f64().unwrap() >= 447.0 && l["mcmc"]["r_hat"].as_f64().unwrap() < 1.1,
        "{l}"
    );
    std::fs::write(&f, "a,b\n1,2\n").unwrap();
    assert_clear_failure(
        &recuento(
            tmp.path(),
            &["estimate", "--histories", f.to_str().unwrap()],
        ),
        &["line 2", "expected 0 or 1"],
    );
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

#[test]
fn link_files_dedupes_a_synthetic_file_and_reuses_its_saved_model() {
    let tmp = tempfile::tempdir().unwrap();
    let o = recuento(
        tmp.path(),
        &[
            "synth",
            "--dedupe-records",
            "3000",
            "--seed",
            "7",
            "--out",
            "d",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let settings = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/settings/synthetic.toml");
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
    // The saved model holds the settings: the same run again gives the same people.
    let again = run("out/model.json", "out2");
    assert_eq!(again["persons"], v["persons"]);
    assert_eq!(
        std::fs::read(tmp.path().join("out/clusters.csv")).unwrap(),
        std::fs::read(tmp.path().join("out2/clusters.csv")).unwrap()
    );
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
