//! The engine's overhead: comparison vectors per second per core computed by DataFusion (join +
//! UDFs + Parquet write, from `linkage.json`) next to a plain single-threaded Rust loop computing
//! the same comparison vectors on the same pairs.
//!
//! ```text
//! recuento synth --dedupe-records 100000 --out d
//! recuento link-files --settings bench/settings/synthetic.toml --out o d/dedupe.csv
//! cargo run --release -p recuento-engine --example comparison_overhead -- d/dedupe.csv o
//! ```

use std::collections::HashMap;
use std::time::Instant;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Int8Type, Int64Type};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use recuento_text::compare::{self, Fuzzy};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!(
            "usage: comparison_overhead DEDUPE.csv OUT_DIR (of a link-files run with bench/settings/synthetic.toml)"
        );
        std::process::exit(2);
    }
    // Records, standardised as the generic loader does for synthetic.toml.
    let mut reader = csv::Reader::from_path(&args[1]).expect("read the CSV");
    let headers = reader.headers().expect("header").clone();
    let col = |n: &str| headers.iter().position(|h| h == n).expect("column");
    let (g, s1, s2, sx, b, id, m) = (
        col("given_names"),
        col("surname1"),
        col("surname2"),
        col("sex"),
        col("birth_date"),
        col("national_id"),
        col("municipality"),
    );
    let mut recs: Vec<[String; 7]> = Vec::new();
    for r in reader.records() {
        let r = r.expect("row");
        let f = |i: usize| recuento_text::fold(&r[i]);
        let date = recuento_text::dates::parse_date(&r[b], recuento_model::DateOrder::Dmy)
            .ok()
            .flatten()
            .map(|d| d.date.to_string())
            .unwrap_or_default();
        let nid = recuento_text::ids::normalise_id(&r[id])
            .map(|i| i.value().to_string())
            .unwrap_or_default();
        recs.push([f(g), f(s1), f(s2), date, nid, f(m), f(sx)]);
    }
    // Pairs the engine compared.
    let out = std::path::Path::new(&args[2]);
    let file = std::fs::File::open(out.join("pairs.parquet")).expect("pairs.parquet");
    let mut pairs = Vec::new();
    let mut engine_levels = Vec::new();
    for batch in ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
    {
        let batch = batch.expect("batch");
        let s = batch.schema();
        let l = batch
            .column(s.index_of("rid_l").expect("rid_l"))
            .as_primitive::<Int64Type>()
            .clone();
        let r = batch
            .column(s.index_of("rid_r").expect("rid_r"))
            .as_primitive::<Int64Type>()
            .clone();
        let lv = batch
            .column(s.index_of("surnames").expect("surnames"))
            .as_primitive::<Int8Type>()
            .clone();
        for i in 0..batch.num_rows() {
            pairs.push((l.value(i) as usize, r.value(i) as usize));
            engine_levels.push(lv.value(i));
        }
    }
    let linkage: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("linkage.json")).expect("linkage.json"),
    )
    .expect("json");
    let engine_seconds = linkage["seconds"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x[0] == "block and compare"))
        .and_then(|x| x[1].as_f64())
        .unwrap_or(f64::NAN);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;

    let started = Instant::now();
    let mut checksum = 0i64;
    let mut mismatches = 0usize;
    for (k, &(a, b)) in pairs.iter().enumerate() {
        let (x, y) = (&recs[a], &recs[b]);
        let v = [
            compare::compare_given(&x[0], &y[0]),
            compare::compare_surnames(&x[1], &x[2], &y[1], &y[2]),
            compare::compare_dates(&x[3], &y[3]),
            compare::compare_ids(&x[4], &y[4]),
            compare::fuzzy_level(Fuzzy::Exact, &[], &x[5], &y[5]),
            compare::fuzzy_level(Fuzzy::Exact, &[], &x[6], &y[6]),
        ];
        if v[1] != engine_levels[k] {
            mismatches += 1;
        }
        checksum += v.iter().map(|&l| i64::from(l)).sum::<i64>();
    }
    let loop_seconds = started.elapsed().as_secs_f64();

    // The same loop with each distinct (value, value) pair of names compared once.
    let started = Instant::now();
    let mut given: HashMap<(&str, &str), i8> = HashMap::new();
    let mut checksum2 = 0i64;
    for &(a, b) in &pairs {
        let (x, y) = (&recs[a], &recs[b]);
        let lg = *given
            .entry((x[0].as_str(), y[0].as_str()))
            .or_insert_with(|| compare::compare_given(&x[0], &y[0]));
        checksum2 += i64::from(lg);
    }
    let cached_seconds = started.elapsed().as_secs_f64();
    let plain_given: f64 = {
        let t = Instant::now();
        let mut c = 0i64;
        for &(a, b) in &pairs {
            c += i64::from(compare::compare_given(&recs[a][0], &recs[b][0]));
        }
        assert_eq!(c, checksum2);
        t.elapsed().as_secs_f64()
    };
    let n = pairs.len() as f64;
    println!("pairs: {}", pairs.len());
    println!(
        "| path | comparison vectors/s per core | seconds |\n|---|---|---|\n| DataFusion (join + UDFs + write, {cores} cores) | {:.0} | {engine_seconds:.2} |\n| plain Rust loop, one core | {:.0} | {loop_seconds:.2} |",
        n / (engine_seconds * cores),
        n / loop_seconds
    );
    println!(
        "given names only: every pair {plain_given:.3} s, each distinct value pair once {cached_seconds:.3} s ({} distinct of {} pairs)",
        given.len(),
        pairs.len()
    );
    println!("checksum {checksum}; surname levels differing from the engine's: {mismatches}");
}
