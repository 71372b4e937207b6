//! Helpers: run the binary, make temporary projects.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `recuento` with arguments in `dir`.
pub fn recuento(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recuento"))
        .args(args)
        .current_dir(dir)
        .env("RECUENTO_LOG", "warn")
        .output()
        .expect("the recuento binary runs")
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Asserts that a command exited with code 2 and a clear message, not a panic.
pub fn assert_clear_failure(o: &Output, must_contain: &[&str]) {
    let (out, err) = text(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit 2\nstdout: {out}\nstderr: {err}"
    );
    assert!(!err.contains("panicked"), "panic: {err}");
    for needle in must_contain {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
}

/// Writes a one-list project whose list is `file` with the given content and column mapping.
pub fn one_list_project(
    dir: &Path,
    file: &str,
    content: &[u8],
    columns: &[(&str, &str)],
    extra: &str,
) {
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    std::fs::write(dir.join("lists").join(file), content).unwrap();
    let cols: String = columns
        .iter()
        .map(|(k, v)| format!("{k} = \"{v}\"\n"))
        .collect();
    std::fs::write(
        dir.join("recuento.toml"),
        format!("[project]\nname = \"t\"\n\n[[lists]]\nname = \"a\"\nfile = \"lists/{file}\"\n{extra}\n[lists.columns]\n{cols}"),
    )
    .unwrap();
}

/// Writes a synthetic project with `recuento synth` and asserts it succeeded.
pub fn synth(dir: &Path, out: &Path, persons: usize, seed: u64, lists: usize) {
    let o = recuento(
        dir,
        &[
            "synth",
            "--persons",
            &persons.to_string(),
            "--seed",
            &seed.to_string(),
            "--lists",
            &lists.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
}

/// Writes a synthetic deduplication file of `records` records into `dir/out/dedupe.csv`.
pub fn synth_dedupe(dir: &Path, records: &str, seed: &str, out: &str) {
    let o = recuento(
        dir,
        &[
            "synth",
            "--dedupe-records",
            records,
            "--seed",
            seed,
            "--out",
            out,
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
}

/// The settings of the synthetic linkage benchmark (`bench/settings/synthetic.toml`).
pub fn synthetic_settings() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/settings/synthetic.toml")
}
