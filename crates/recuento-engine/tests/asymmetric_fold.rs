//! An asymmetric blocking condition between a column that a comparison folds and one that no
//! comparison reads (`name=alias`) still finds pairs written with other capitals and accents:
//! the folded column is stored folded, so the other side's key must be folded too.

use std::collections::BTreeSet;
use std::io::Write as _;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use recuento_engine::Engine;
use recuento_model::LinkSettings;

const SETTINGS: &str = r#"
link_type = "dedupe_only"
unique_id_column = "id"
u_sample_pairs = 2000
blocking_rules = [["name=alias"], ["city"]]

[[comparisons]]
columns = ["name"]
method = "jaro_winkler"
thresholds = [0.9]

[[comparisons]]
columns = ["city"]
method = "exact"
"#;

#[test]
fn asymmetric_rule_folds_the_column_kept_as_written() {
    // Names as a comparison folds them, aliases as people write them.
    let names = ["García", "Núñez", "Peña", "López", "Ríos"];
    let aliases = ["GARCIA", "nunez", "PEÑA", "Lopez", "rios"];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "id,name,alias,city").unwrap();
    let mut rows = Vec::new();
    for i in 0..40 {
        let name = names[i % 5];
        let alias = aliases[(i / 5) % 5];
        let city = ["Soyapango", "Apopa", "Mejicanos", "Ilopango"][i % 4];
        writeln!(f, "r{i},{name},{alias},{city}").unwrap();
        rows.push((name, alias, city));
    }
    drop(f);
    let fold = recuento_text::fold;
    let mut expected = BTreeSet::new();
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let (a, b) = (rows[i], rows[j]);
            if fold(a.0) == fold(b.1) || fold(a.1) == fold(b.0) || a.2 == b.2 {
                expected.insert((i as i64, j as i64));
            }
        }
    }
    let settings = LinkSettings::parse_toml(SETTINGS).unwrap();
    let engine = Engine::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(async {
            let input = engine
                .load_generic(&settings, std::slice::from_ref(&path), None)
                .await?;
            engine.run_link(&input.plan, dir.path()).await
        })
        .unwrap();
    let file = std::fs::File::open(dir.path().join("pairs.parquet")).unwrap();
    let reader =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
    let mut found = BTreeSet::new();
    for batch in reader {
        let batch = batch.unwrap();
        let s = batch.schema();
        let l = batch.column(s.index_of("rid_l").unwrap());
        let r = batch.column(s.index_of("rid_r").unwrap());
        let (l, r) = (l.as_primitive::<Int64Type>(), r.as_primitive::<Int64Type>());
        for i in 0..batch.num_rows() {
            let (a, b) = (l.value(i), r.value(i));
            found.insert((a.min(b), a.max(b)));
        }
    }
    let missed: Vec<_> = expected.difference(&found).collect();
    assert!(
        missed.is_empty(),
        "{} pairs the asymmetric rule should find were missed, e.g. {:?}",
        missed.len(),
        &missed[..missed.len().min(5)]
    );
    assert_eq!(found, expected);
}
