//! A blocking rule's condition over both records (`l.x IS NULL OR r.x IS NULL`) is refused with
//! the rule's number when it names a column the files lack, or when the rule has nothing else
//! to join on.

use std::io::Write as _;

use recuento_engine::Engine;
use recuento_model::LinkSettings;

fn load_error(rules: &str) -> String {
    let settings = format!(
        r#"
link_type = "dedupe_only"
unique_id_column = "id"
blocking_rules = {rules}

[[comparisons]]
columns = ["name"]
method = "jaro_winkler"
thresholds = [0.9]
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "id,name,born").unwrap();
    writeln!(f, "r1,ana,1980").unwrap();
    writeln!(f, "r2,ana,").unwrap();
    drop(f);
    let settings = LinkSettings::parse_toml(&settings).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(Engine::new().load_generic(&settings, &[path], None))
        .map(|_| ())
        .expect_err("the settings should be refused")
        .to_string()
}

#[test]
fn a_misspelt_column_in_a_condition_names_the_rule() {
    let e = load_error(r#"[["name"], ["name", "l.brn IS NULL OR r.born IS NULL"]]"#);
    assert!(e.contains("blocking rule 2"), "{e}");
    assert!(e.contains("l.column and r.column"), "{e}");
}

#[test]
fn a_rule_with_only_a_condition_is_refused() {
    let e = load_error(r#"[["l.born IS NULL OR r.born IS NULL"]]"#);
    assert!(e.contains("blocking rule 1"), "{e}");
    assert!(e.contains("at least one column"), "{e}");
}

#[test]
fn a_well_written_condition_loads() {
    let settings = LinkSettings::parse_toml(
        r#"
link_type = "dedupe_only"
unique_id_column = "id"
blocking_rules = [["name", "l.born IS NULL OR r.born IS NULL"]]

[[comparisons]]
columns = ["name"]
method = "exact"
"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.csv");
    std::fs::write(&path, "id,name,born\nr1,ana,1980\nr2,ana,\n").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let input = runtime
        .block_on(Engine::new().load_generic(&settings, &[path], None))
        .unwrap();
    let rule = &input.plan.rules[0];
    assert_eq!(
        rule.filter.as_deref(),
        Some("(l.born IS NULL OR r.born IS NULL)")
    );
    // The condition picks pairs by `born`: EM must not learn its comparison from them.
    assert!(
        rule.columns.iter().any(|c| c == "born"),
        "{:?}",
        rule.columns
    );
}
