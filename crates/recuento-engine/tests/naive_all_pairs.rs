//! The DataFusion linker against a naive all-pairs loop on small random inputs: the same
//! candidate pairs (each once, whichever rules find it, a rule's condition over both records
//! included), the same comparison levels, and match
//! weights that add up from the trained model.

use std::collections::BTreeMap;
use std::io::Write as _;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int8Type, Int64Type};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_engine::Engine;
use recuento_model::LinkSettings;
use recuento_text::compare::{Fuzzy, compare_ages, compare_dates, fuzzy_level};

const SETTINGS: &str = r#"
link_type = "LINK_TYPE"
unique_id_column = "id"
source_column = "src"
u_sample_pairs = 2000
blocking_rules = [
  ["first"],
  ["last", "substr(dob, 1, 4)"],
  ["first=last", "last=first"],
  ["first=last"],
  ["age", "l.dob IS NULL OR r.dob IS NULL"],
  ["last", "r.age IS NOT NULL AND l.dob <> r.dob"],
]

[[comparisons]]
columns = ["first"]
method = "jaro_winkler"
thresholds = [0.9, 0.7]

[[comparisons]]
columns = ["last"]
method = "levenshtein"
thresholds = [1, 2]

[[comparisons]]
columns = ["dob"]
method = "exact"

[[comparisons]]
columns = ["age"]
method = "age"

[[comparisons]]
name = "birth"
columns = ["dob", "age", "seen"]
method = "date"
"#;

const NAMES: [&str; 8] = [
    "ana", "anna", "luis", "luiz", "marta", "martha", "jose", "josue",
];

#[test]
fn datafusion_path_matches_naive_all_pairs() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut rules_met_both_ways = 0;
    for (case, link_type) in ["dedupe_only", "link_only", "link_and_dedupe"]
        .iter()
        .enumerate()
    {
        for seed in 0..3u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed * 10 + case as u64);
            let n = rng.random_range(20..60);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("records.csv");
            let mut f = std::fs::File::create(&path).unwrap();
            writeln!(f, "id,src,first,last,dob,age,seen").unwrap();
            let mut rows = Vec::new();
            for i in 0..n {
                let pick = |rng: &mut ChaCha8Rng| {
                    if rng.random::<f64>() < 0.1 {
                        String::new()
                    } else {
                        NAMES[rng.random_range(0..NAMES.len())].to_string()
                    }
                };
                let first = pick(&mut rng);
                let last = pick(&mut rng);
                let dob = if rng.random::<f64>() < 0.1 {
                    String::new()
                } else {
                    format!(
                        "{}-0{}-1{}",
                        1980 + rng.random_range(0..3),
                        rng.random_range(1..4),
                        rng.random_range(0..3)
                    )
                };
                let age = if rng.random::<f64>() < 0.2 {
                    String::new()
                } else {
                    rng.random_range(38..46).to_string()
                };
                let seen = format!("{}-05-01", 2022 + rng.random_range(0..3));
                let src = if rng.random::<bool>() { "a" } else { "b" };
                writeln!(f, "r{i},{src},{first},{last},{dob},{age},{seen}").unwrap();
                rows.push((src.to_string(), first, last, dob, age, seen));
            }
            drop(f);
            let settings =
                LinkSettings::parse_toml(&SETTINGS.replace("LINK_TYPE", link_type)).unwrap();
            let engine = Engine::new();
            let out = runtime.block_on(async {
                let input = engine
                    .load_generic(&settings, std::slice::from_ref(&path), None)
                    .await
                    .unwrap();
                engine.run_link(&input.plan, dir.path()).await
            });
            // Naive: every allowed pair, every rule, every comparison.
            let mut naive: BTreeMap<(i64, i64), Vec<i8>> = BTreeMap::new();
            for i in 0..rows.len() {
                for j in i + 1..rows.len() {
                    let (a, b) = (&rows[i], &rows[j]);
                    if *link_type == "link_only" && a.0 == b.0 {
                        continue;
                    }
                    let eq = |x: &str, y: &str| !x.is_empty() && x == y;
                    let year = |d: &str| d.get(..4).unwrap_or("").to_string();
                    let found = eq(&a.1, &b.1)
                        || (eq(&a.2, &b.2) && eq(&year(&a.3), &year(&b.3)))
                        || eq(&a.1, &b.2)
                        || eq(&a.2, &b.1)
                        || (eq(&a.4, &b.4) && (a.3.is_empty() || b.3.is_empty()))
                        || (eq(&a.2, &b.2)
                            && !b.4.is_empty()
                            && !a.3.is_empty()
                            && !b.3.is_empty()
                            && a.3 != b.3);
                    // Birth date, or the birth year the age implies at the date seen.
                    let birth = |r: &(String, String, String, String, String, String)| {
                        if r.3.is_empty() {
                            r.4.parse::<i32>()
                                .map(|age| (r.5[..4].parse::<i32>().unwrap() - age).to_string())
                                .unwrap_or_default()
                        } else {
                            r.3.clone()
                        }
                    };
                    if found {
                        naive.insert(
                            (i as i64, j as i64),
                            vec![
                                fuzzy_level(Fuzzy::JaroWinkler, &[0.9, 0.7], &a.1, &b.1),
                                fuzzy_level(Fuzzy::Levenshtein, &[1.0, 2.0], &a.2, &b.2),
                                fuzzy_level(Fuzzy::Exact, &[], &a.3, &b.3),
                                compare_ages(&a.4, &b.4),
                                compare_dates(&birth(a), &birth(b)),
                            ],
                        );
                    }
                }
            }
            let out = match out {
                Ok(o) => o,
                // Nothing to train on is the only acceptable failure, and only with no pairs.
                Err(e) => {
                    assert!(naive.is_empty(), "{link_type} seed {seed}: {e}");
                    continue;
                }
            };
            // The engine's pairs.
            let file = std::fs::File::open(dir.path().join("pairs.parquet")).unwrap();
            let reader =
                datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    file,
                )
                .unwrap()
                .build()
                .unwrap();
            let mut engine_pairs: BTreeMap<(i64, i64), Vec<i8>> = BTreeMap::new();
            for batch in reader {
                let batch = batch.unwrap();
                let s = batch.schema();
                let col = |name: &str| batch.column(s.index_of(name).unwrap()).clone();
                let l = col("rid_l");
                let r = col("rid_r");
                let (l, r) = (l.as_primitive::<Int64Type>(), r.as_primitive::<Int64Type>());
                let levels: Vec<_> = ["first", "last", "dob", "age", "birth"]
                    .iter()
                    .map(|c| col(c).as_primitive::<Int8Type>().clone())
                    .collect();
                let w = col("match_weight");
                let w = w.as_primitive::<Float64Type>();
                // The identifiers read back as plain strings (they are written from string
                // views, without the Arrow schema), the records' own.
                let text = |name: &str| {
                    let c = col(name);
                    assert_eq!(c.data_type(), &DataType::Utf8, "{name}");
                    c.as_string::<i32>().clone()
                };
                let (ids_l, ids_r) = (text("record_id_l"), text("record_id_r"));
                let (lists_l, lists_r) = (text("list_l"), text("list_r"));
                for i in 0..batch.num_rows() {
                    let (a, b) = (l.value(i) as usize, r.value(i) as usize);
                    assert_eq!(ids_l.value(i), format!("r{a}"));
                    assert_eq!(ids_r.value(i), format!("r{b}"));
                    assert_eq!(lists_l.value(i), rows[a].0);
                    assert_eq!(lists_r.value(i), rows[b].0);
                    let pattern: Vec<i8> = levels.iter().map(|c| c.value(i)).collect();
                    let (weight, _) = out.model.score(&pattern);
                    assert!((weight - w.value(i)).abs() < 1e-9, "weight of pair {i}");
                    assert!(
                        engine_pairs
                            .insert((l.value(i), r.value(i)), pattern)
                            .is_none(),
                        "pair scored twice"
                    );
                }
            }
            assert!(naive.len() > 10, "the random input should make pairs");
            assert_eq!(engine_pairs, naive, "{link_type} seed {seed}");
            assert_eq!(out.candidate_pairs as usize, naive.len());
            // The count measured before pairs are generated, for the rule that reads the same
            // both ways (`first=last, last=first`): the ordered pairs of its blocks halved,
            // rounded up, so each pair once and half the records that meet it with themselves.
            let eq = |x: &str, y: &str| !x.is_empty() && x == y;
            let (mut both_ways, mut itself) = (0u64, 0u64);
            for (i, a) in rows.iter().enumerate() {
                itself += u64::from(eq(&a.1, &a.2));
                for b in &rows[i + 1..] {
                    both_ways += u64::from(eq(&a.1, &b.2) && eq(&a.2, &b.1));
                }
            }
            let reported = out.blocking[2].pairs;
            assert_eq!(
                reported,
                both_ways + itself.div_ceil(2),
                "{link_type} seed {seed}: {both_ways} pairs, {itself} records meeting the rule alone"
            );
            rules_met_both_ways += both_ways;
        }
    }
    assert!(
        rules_met_both_ways > 0,
        "the random input should meet the both-ways rule"
    );
}
