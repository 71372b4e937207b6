//! Bad input gets a clear message, never a panic, and every row is accounted for.

use rand::{Rng, SeedableRng};

use crate::util::{assert_clear_failure, one_list_project, recuento, text};

#[test]
fn empty_file_is_one_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    one_list_project(tmp.path(), "a.csv", b"", &[("full_name", "nombre")], "");
    assert_clear_failure(
        &recuento(tmp.path(), &["import"]),
        &["lists/a.csv", "empty"],
    );
}

#[test]
fn missing_file_and_missing_column_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    one_list_project(
        tmp.path(),
        "a.csv",
        b"nombre,edad\nAna,3\n",
        &[("full_name", "Nombre completo")],
        "",
    );
    assert_clear_failure(
        &recuento(tmp.path(), &["import"]),
        &[
            "\"Nombre completo\"",
            "\"nombre\", \"edad\"",
            "En español: lista 'a' (lists/a.csv): recuento.toml asigna full_name a la columna \"Nombre completo\", pero el archivo no tiene esa columna",
        ],
    );
    std::fs::remove_file(tmp.path().join("lists/a.csv")).unwrap();
    assert_clear_failure(
        &recuento(tmp.path(), &["import"]),
        &["lists/a.csv", "does not exist", "el archivo no existe"],
    );
}

#[test]
fn bad_config_is_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("recuento.toml"),
        "[project]\nname = \"x\"\n[[lists]\n",
    )
    .unwrap();
    assert_clear_failure(
        &recuento(tmp.path(), &["import"]),
        &["recuento.toml", "line 3"],
    );
    assert_clear_failure(
        &recuento(&tmp.path().join(".."), &["import", "-p", "/nonexistent/x"]),
        &["recuento init", "¿es una carpeta de proyecto de recuento?"],
    );
}

/// The mistakes people make editing `recuento.toml` by hand are said in words, in both
/// languages, with the line and the setting, and once (the reader's own message used to be
/// printed twice, in serde's words).
#[test]
fn a_hand_edited_config_gets_its_mistake_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    one_list_project(
        tmp.path(),
        "a.csv",
        b"nombre\nAna\n",
        &[("full_name", "nombre")],
        "",
    );
    let config = std::fs::read_to_string(tmp.path().join("recuento.toml")).unwrap();
    let with = |extra: &str| {
        std::fs::write(tmp.path().join("recuento.toml"), format!("{config}{extra}")).unwrap();
        recuento(tmp.path(), &["import"])
    };
    let out = with("\n[linkage]\numbral = 0.8\n");
    assert_clear_failure(
        &out,
        &[
            "recuento.toml: line",
            "([linkage] umbral): 'umbral' is not a setting here (did you mean 'threshold'?)",
            "En español:",
            "(¿quería decir 'threshold'?)",
        ],
    );
    assert_eq!(text(&out).1.matches("is not a setting here").count(), 1);
    assert_clear_failure(
        &with("\n[linkage]\nthreshold = \"alto\"\n"),
        &[
            "expected a number (such as 0.9), found the text \"alto\"",
            "se esperaba un número (como 0.9), y hay el texto \"alto\"",
        ],
    );
    assert_clear_failure(
        &with("\n[linkage]\nthreshold = 1.5\n"),
        &[
            "[linkage] threshold must be a match probability between 0 and 1",
            "[linkage] threshold debe ser una probabilidad",
        ],
    );
    // Notepad's byte-order mark is read past; a file saved in Windows-1252 is named as such.
    std::fs::write(
        tmp.path().join("recuento.toml"),
        format!("\u{feff}{config}"),
    )
    .unwrap();
    let out = recuento(tmp.path(), &["import"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let mut latin = config.clone().into_bytes();
    latin.extend_from_slice(b"# Direcci\xf3n\n");
    std::fs::write(tmp.path().join("recuento.toml"), latin).unwrap();
    assert_clear_failure(
        &recuento(tmp.path(), &["import"]),
        &["not saved as UTF-8", "no está guardado como texto UTF-8"],
    );
}

#[test]
fn messy_rows_are_imported_or_reported() {
    let tmp = tempfile::tempdir().unwrap();
    // Ragged rows, an embedded newline, an empty row, a bad date and bytes that are not UTF-8
    // in a file declared UTF-8.
    let content = b"nombre,fecha,obs\nAna Lopez,03/04/2023,x\nLuis Perez,31/02/2023\n\"Jos\xe9 Ruiz\",2023,\"linea 1\nlinea 2\"\n,,\nEva Diaz,2023-01-05,a,b\n";
    one_list_project(
        tmp.path(),
        "a.csv",
        content,
        &[("full_name", "nombre"), ("event_date", "fecha")],
        "encoding = \"utf-8\"",
    );
    let o = recuento(tmp.path(), &["import"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("5 rows read =       4 imported + 1 not imported"),
        "{out}"
    );
    let report = std::fs::read_to_string(tmp.path().join("out/import_report.csv")).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("a,lists/a.csv,3,") && l.contains("2 values")),
        "{report}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("a,lists/a.csv,3,fecha,31/02/2023")),
        "{report}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("a,lists/a.csv,4,") && l.contains("not valid UTF-8")),
        "{report}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("a,lists/a.csv,6,")
            && l.contains("empty")
            && l.contains("vacía")
            && l.ends_with(",no")),
        "{report}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("a,lists/a.csv,7,") && l.contains("extra values")),
        "{report}"
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/import_summary.json")).unwrap(),
    )
    .unwrap();
    let s = &summary[0];
    assert_eq!(s["rows_read"], 5);
    assert_eq!(
        s["rows_imported"].as_u64().unwrap() + s["rows_not_imported"].as_u64().unwrap(),
        5
    );
}

#[test]
fn header_only_list_imports_nothing_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    one_list_project(
        tmp.path(),
        "a.csv",
        b"nombre,edad\n",
        &[("full_name", "nombre")],
        "",
    );
    let o = recuento(tmp.path(), &["import"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("0 rows read"), "{out}");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let tmp = tempfile::tempdir().unwrap();
    for (i, ext) in ["csv", "xlsx", "parquet", "tsv", "csv", "csv"]
        .iter()
        .enumerate()
    {
        let len = rng.random_range(1..2000);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if i >= 4 {
            // Mostly text with stray quotes, delimiters and invalid bytes.
            bytes = (0..len)
                .map(|_| {
                    *b"ab,;\"\n\r\t\xff\xe9 1"
                        .get(rng.random_range(0..14))
                        .unwrap_or(&b'a')
                })
                .collect();
        }
        let dir = tmp.path().join(format!("p{i}"));
        one_list_project(&dir, &format!("a.{ext}"), &bytes, &[], "");
        let o = recuento(&dir, &["run"]);
        let (_, err) = text(&o);
        assert!(!err.contains("panicked"), "panic on {ext}: {err}");
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(2),
            "{err}"
        );
    }
}

/// A value on a list that a spreadsheet would take for a formula (CSV injection) reaches the
/// CSV files recuento writes quoted, and is read back as it was.
#[test]
fn a_hostile_value_never_becomes_a_spreadsheet_formula() {
    let tmp = tempfile::tempdir().unwrap();
    one_list_project(
        tmp.path(),
        "a.csv",
        "id,nombre,fecha\n=HYPERLINK(\"http://x\"),Ana López,=1+1\n-7,Luis Pérez,2023-01-05\nP3,Luis Perez,2023-01-05\nP4,Eva Díaz,2023-02-01\nP5,Eva Diaz,2023-02-01\nP6,Rosa Martínez,2022-11-30\nP7,Rosa Martinez,2022-11-30\n".as_bytes(),
        &[("record_id", "id"), ("full_name", "nombre"), ("event_date", "fecha")],
        "",
    );
    let o = recuento(tmp.path(), &["import"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let report = std::fs::read_to_string(tmp.path().join("out/import_report.csv")).unwrap();
    assert!(report.contains(",fecha,'=1+1,"), "{report}");
    let o = recuento(tmp.path(), &["link"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let persons = std::fs::read_to_string(tmp.path().join("out/persons.csv")).unwrap();
    assert!(
        persons.contains("a,\"'=HYPERLINK(\"\"http://x\"\")\",") && persons.contains("a,'-7,"),
        "{persons}"
    );
    assert!(!persons.lines().any(|l| l.starts_with("a,=")), "{persons}");
    // Read back as it was: the record ids match the records.
    let assignment = recuento::eval::read_assignment(&tmp.path().join("out/persons.csv")).unwrap();
    assert!(assignment.contains_key(&("a".to_string(), "-7".to_string())));
}
