//! `Engine::record_text_column` reads a standardised column of the loaded records by record
//! number, missing and empty values as `None`: what the contradiction checks (two valid DUIs,
//! birth years far apart) read.

use recuento_engine::Engine;
use recuento_model::LinkSettings;

#[test]
fn standardised_columns_are_read_by_record_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.csv");
    std::fs::write(
        &path,
        "id,name,dob,dui\n1,Ana,3/4/1980,00016297-5\n2,Ana,,\n3,Luis,1975-12-01,12345678-4\n",
    )
    .unwrap();
    let settings = LinkSettings::parse_toml(
        r#"
unique_id_column = "id"
blocking_rules = [["name"]]
[[comparisons]]
columns = ["dob"]
method = "date"
[[comparisons]]
columns = ["dui"]
method = "national_id"
"#,
    )
    .unwrap();
    let engine = Engine::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (births, ids) = runtime.block_on(async {
        engine
            .load_generic(&settings, std::slice::from_ref(&path), None)
            .await
            .unwrap();
        (
            engine.record_text_column("dob__date").await.unwrap(),
            engine.record_text_column("dui__id").await.unwrap(),
        )
    });
    assert_eq!(births.len(), 3);
    let births: Vec<Option<&str>> = births.iter().collect();
    assert_eq!(births[1], None);
    assert!(
        births[0].is_some_and(|b| b.starts_with("1980")),
        "{births:?}"
    );
    assert_eq!(births[2], Some("1975-12-01"));
    let ids: Vec<Option<&str>> = ids.iter().collect();
    assert_eq!(ids[1], None);
    assert!(
        ids[0].is_some() && ids[2].is_some() && ids[0] != ids[2],
        "{ids:?}"
    );
    let missing = runtime.block_on(engine.record_text_column("nope"));
    assert!(missing.is_err());
}
