//! The generic linker: any list format, driven by [`LinkSettings`] (see `docs/linkage.md`).
//!
//! Each input file is read by the same importer as victim lists (any encoding and delimiter,
//! Excel, Parquet; problems by line and column). Compared columns are standardised once per
//! record (folded, dates and IDs normalised) and their value frequencies counted for the
//! term-frequency adjustment; blocking expressions become key columns; then the shared core
//! ([`Engine::run_link`]) does the rest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Float64Builder, Int64Builder, RecordBatch, StringBuilder, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use recuento_model::{ComparisonSpec, LinkSettings, LinkType, ListSpec, Method};
use recuento_text::compare::{self, Fuzzy};

use crate::ingest::{Problem, read_list};
use crate::linkage::allowed_pairs;
use crate::linker::{LinkPlan, PlanComparison, PlanRule, TermFrequency};
use crate::{Engine, Error, Result};

/// What loading the input files produced.
#[derive(Debug, Clone)]
pub struct GenericInput {
    /// The plan for [`Engine::run_link`].
    pub plan: LinkPlan,
    /// Records per list, in input order.
    pub per_list: Vec<(String, usize)>,
    /// Problems found reading the files: (file, problem).
    pub problems: Vec<(String, Problem)>,
    /// Rows read from the files (imported or not).
    pub rows_read: usize,
    /// The true person of each record (by rid), when a truth column was named: the column's
    /// values numbered in order of first appearance (a number per record instead of a string).
    pub truth: Option<Vec<Option<u32>>>,
}

/// The derived column holding a comparison's standardised value of its `j`-th column.
fn value_column(c: &ComparisonSpec, j: usize) -> String {
    match c.method {
        Method::Date => format!("{}__date", c.columns[j]),
        Method::NationalId => format!("{}__id", c.columns[j]),
        Method::Age => format!("{}__age", c.columns[j]),
        _ => c.columns[j].clone(),
    }
}

/// Whether a comparison compares a value derived from its columns rather than a raw column.
fn is_derived(m: Method) -> bool {
    matches!(m, Method::Date | Method::NationalId | Method::Age)
}

/// How many derived values a comparison compares: one for a date (a date with three columns
/// derives one value from them), one per column otherwise.
fn values_compared(c: &ComparisonSpec) -> usize {
    if c.method == Method::Date {
        1
    } else {
        c.columns.len()
    }
}

/// The standardised value of a comparison's `j`-th column for one record (`get` reads a
/// column by name). A date comparison with three columns (birth date, age, the date the age
/// refers to) falls back on the birth year the age implies when the birth date is missing.
fn comparison_value(
    c: &ComparisonSpec,
    j: usize,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let raw = |k: usize| get(&c.columns[k]).unwrap_or_default();
    let value = standardise(c.method, c.fold, &raw(j));
    if c.method == Method::Date && c.columns.len() == 3 && j == 0 && value.is_none() {
        let reference = standardise(Method::Date, false, &raw(2))
            .and_then(|d| recuento_model::PartialDate::parse_iso(&d));
        return recuento_text::parse_age(&raw(1))
            .and_then(|age| recuento_text::dates::birth_year_from_age(age, reference))
            .map(|d| d.to_string());
    }
    value
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn fuzzy_of(m: Method) -> Option<Fuzzy> {
    Some(match m {
        Method::Exact => Fuzzy::Exact,
        Method::JaroWinkler => Fuzzy::JaroWinkler,
        Method::Jaro => Fuzzy::Jaro,
        Method::Levenshtein => Fuzzy::Levenshtein,
        Method::DamerauLevenshtein => Fuzzy::DamerauLevenshtein,
        _ => return None,
    })
}

/// SQL, level names and term-frequency levels (exact, lowest adjusted) of one comparison.
fn comparison_plan(c: &ComparisonSpec) -> PlanComparison {
    let side = |s: &str, j: usize| format!("{s}.{}", quoted(&value_column(c, j)));
    let (sql, levels, exact): (String, Vec<String>, i8) = if let Some(f) = fuzzy_of(c.method) {
        let t: Vec<String> = c.thresholds.iter().map(|t| t.to_string()).collect();
        let label = match f {
            Fuzzy::JaroWinkler => "Jaro-Winkler >=",
            Fuzzy::Jaro => "Jaro >=",
            Fuzzy::Levenshtein => "Levenshtein <=",
            _ => "Damerau-Levenshtein <=",
        };
        let mut levels = vec!["missing".to_string(), "different".to_string()];
        levels.extend(c.thresholds.iter().rev().map(|t| format!("{label} {t}")));
        levels.push("exact".into());
        (
            format!(
                "cmp_fuzzy('{}', '{}', {}, {})",
                f.key(),
                t.join(","),
                side("l", 0),
                side("r", 0)
            ),
            levels,
            c.thresholds.len() as i8 + 1,
        )
    } else {
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match c.method {
            Method::Date => (
                format!("cmp_date({}, {})", side("l", 0), side("r", 0)),
                names(&compare::DATE_LEVELS),
                5,
            ),
            Method::NationalId => (
                format!("cmp_id({}, {})", side("l", 0), side("r", 0)),
                names(&compare::ID_LEVELS),
                4,
            ),
            Method::Age => (
                format!("cmp_age({}, {})", side("l", 0), side("r", 0)),
                names(&compare::AGE_LEVELS),
                3,
            ),
            Method::SpanishGivenNames => (
                format!("cmp_given({}, {})", side("l", 0), side("r", 0)),
                names(&compare::GIVEN_LEVELS),
                4,
            ),
            _ => (
                format!(
                    "cmp_surnames({}, {}, {}, {})",
                    side("l", 0),
                    side("l", 1),
                    side("r", 0),
                    side("r", 1)
                ),
                names(&compare::SURNAME_LEVELS),
                5,
            ),
        }
    };
    PlanComparison {
        name: c.name.clone(),
        sql,
        levels,
        columns: c.columns.clone(),
        tf: c.term_frequency.then(|| TermFrequency {
            column: format!("{}__tf", c.name),
            exact_level: exact,
            min_level: 1,
        }),
    }
}

/// Standardises one value for a comparison.
fn standardise(method: Method, fold: bool, v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let out = match method {
        Method::Date => recuento_text::dates::parse_date(v, recuento_model::DateOrder::Dmy)
            .ok()
            .flatten()
            .map(|d| d.date.to_string())?,
        Method::NationalId => recuento_text::ids::normalise_id(v)?.value().to_string(),
        Method::Age => recuento_text::parse_age(v)?.to_string(),
        _ if fold => recuento_text::fold(v),
        _ => v.to_string(),
    };
    (!out.is_empty()).then_some(out)
}

impl Engine {
    /// `batch` with one more column per (SQL expression, name) in `keys`, computed on it as
    /// key numbers ([`key_numbers`]). Keys in the same group of `groups` (those an asymmetric
    /// condition such as `surname1=surname2` compares with each other) share one numbering, so
    /// equal texts get equal numbers across them. The texts of the keys marked in `fold` are
    /// folded first (an empty result is missing).
    fn with_block_keys(
        &self,
        batch: RecordBatch,
        keys: &[(String, String)],
        groups: &[usize],
        fold: &[bool],
    ) -> Result<RecordBatch> {
        let schema = batch.schema();
        let df_schema = datafusion::common::DFSchema::try_from(schema.as_ref().clone())?;
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns = batch.columns().to_vec();
        let mut numbered: Vec<Option<ArrayRef>> = vec![None; keys.len()];
        let mut done: Vec<usize> = Vec::new();
        for &group in groups {
            if done.contains(&group) {
                continue;
            }
            done.push(group);
            let members: Vec<usize> = (0..keys.len()).filter(|&i| groups[i] == group).collect();
            // The group's texts, alive together only while they are numbered.
            let mut texts = Vec::new();
            for &i in &members {
                let computed = self
                    .ctx
                    .parse_sql_expr(&keys[i].0, &df_schema)
                    .and_then(|e| self.ctx.create_physical_expr(e, &df_schema))
                    .and_then(|e| e.evaluate(&batch)?.into_array(batch.num_rows()))
                    .map_err(|e| {
                        Error::Plan(format!(
                            "a blocking rule cannot be computed on these files ({e}); write columns as they are in the header, in double quotes if they have capitals or spaces"
                        ))
                    })?;
                let text = datafusion::arrow::compute::cast(&computed, &DataType::Utf8)?;
                texts.push(if fold[i] {
                    let folded: datafusion::arrow::array::StringArray = text
                        .as_string::<i32>()
                        .iter()
                        .map(|v| {
                            v.map(recuento_text::fold)
                                .filter(|f: &String| !f.is_empty())
                        })
                        .collect();
                    Arc::new(folded)
                } else {
                    text
                });
            }
            let texts: Vec<&datafusion::arrow::array::StringArray> =
                texts.iter().map(|t| t.as_string::<i32>()).collect();
            for (&i, ids) in members.iter().zip(key_numbers(&texts)) {
                numbered[i] = Some(Arc::new(ids));
            }
        }
        for ((_, name), ids) in keys.iter().zip(numbered) {
            if let Some(ids) = ids {
                fields.push(Field::new(name, DataType::UInt32, true));
                columns.push(ids);
            }
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    }
}

/// `records` with the text columns the comparisons read held as dictionaries (codes into each
/// column's distinct values). Gathering a pair's values then copies 4-byte codes instead of
/// text, and the comparison functions cache their levels by codes; names repeat so much that
/// the columns also take less memory.
fn with_coded_comparisons(
    records: RecordBatch,
    comparisons: &[ComparisonSpec],
) -> Result<RecordBatch> {
    let compared: Vec<String> = comparisons
        .iter()
        .flat_map(|c| (0..c.columns.len()).map(move |j| value_column(c, j)))
        .collect();
    let coded = DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8));
    let schema = records.schema();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, column) in schema.fields().iter().zip(records.columns()) {
        if compared.contains(f.name()) && f.data_type() == &DataType::Utf8 {
            fields.push(Field::new(f.name(), coded.clone(), true));
            columns.push(datafusion::arrow::compute::cast(column, &coded)?);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(column.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Blocking key columns as numbers: equal texts get equal numbers (in order of first
/// appearance, column after column), a missing key stays missing. Joins and the "found by an
/// earlier rule" checks then compare 4-byte numbers instead of texts, and a million records'
/// keys take 4 MB per column instead of about 15. The texts are looked up again only to report
/// the largest blocks.
fn key_numbers(columns: &[&datafusion::arrow::array::StringArray]) -> Vec<UInt32Array> {
    let mut numbers = datafusion::common::HashMap::new();
    columns
        .iter()
        .map(|values| UInt32Array::from(crate::blocking::text_numbers(values, &mut numbers)))
        .collect()
}

/// Whether a blocking condition is written over the two records of a pair (`l.birth_date IS
/// NULL OR r.birth_date IS NULL`) rather than as a key both share: it names `l.` or `r.`
/// outside quotes.
fn names_both_records(cond: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = cond.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {
                let starts_word =
                    !(previous.is_alphanumeric() || previous == '_' || previous == '.');
                if starts_word && (c == 'l' || c == 'r') && chars.peek() == Some(&'.') {
                    return true;
                }
            }
        }
        previous = c;
    }
    false
}

/// The header names an SQL expression mentions (to know which comparisons a rule fixes).
fn mentioned(expr: &str, headers: &[String]) -> Vec<String> {
    let words: Vec<&str> = expr
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    headers
        .iter()
        .filter(|h| words.contains(&h.as_str()))
        .cloned()
        .collect()
}

impl Engine {
    /// Reads `files`, builds the `records` table the settings need, and returns the plan.
    ///
    /// # Errors
    /// Unreadable files, columns the settings name but a file lacks, blocking expressions that do
    /// not compute.
    pub async fn load_generic(
        &self,
        settings: &LinkSettings,
        files: &[PathBuf],
        truth_column: Option<&str>,
    ) -> Result<GenericInput> {
        if files.is_empty() {
            return Err(Error::Plan("no input files given".into()));
        }
        // Every column the settings read must be in every file.
        let mut needed: Vec<String> = vec![settings.unique_id_column.clone()];
        needed.extend(settings.source_column.iter().cloned());
        needed.extend(truth_column.map(str::to_string));
        for c in &settings.comparisons {
            needed.extend(c.columns.iter().cloned());
        }
        let check = |l: &crate::ingest::RawList| -> Result<()> {
            for n in &needed {
                if !l.headers.contains(n) {
                    return Err(Error::Plan(format!(
                        "{}: there is no column '{n}' (the settings need it); the columns are: {}",
                        l.file,
                        l.headers.join(", ")
                    )));
                }
            }
            Ok(())
        };
        // Files are read one at a time and their rows dropped as they become columns, so that
        // a large file is held once as rows at most.
        let read = |f: &PathBuf| -> Result<crate::ingest::RawList> {
            let name = f
                .file_stem()
                .map_or("list".into(), |s| s.to_string_lossy().into_owned());
            let spec = ListSpec::plain(&name, &f.display().to_string());
            let mut list = read_list(&spec, Path::new(""))?;
            check(&list)?;
            list.bytes = Vec::new();
            Ok(list)
        };
        let first = read(&files[0])?;
        let headers = first.headers.clone();
        let mut pending = Some(first);
        // Which columns are folded: any comparison on them with `fold` and a text method.
        let folded: Vec<&str> = settings
            .comparisons
            .iter()
            .filter(|c| c.fold && !is_derived(c.method))
            .flat_map(|c| c.columns.iter().map(String::as_str))
            .collect();
        let mut rid = Int64Builder::new();
        let mut list_b = StringBuilder::new();
        let mut id_b = StringBuilder::new();
        let mut line_b = Int64Builder::new();
        let mut cols: Vec<StringBuilder> = headers.iter().map(|_| StringBuilder::new()).collect();
        let derived: Vec<(usize, usize)> = settings
            .comparisons
            .iter()
            .enumerate()
            .filter(|(_, c)| is_derived(c.method))
            // A date with three columns compares one derived value (birth date or age).
            .flat_map(|(i, c)| (0..values_compared(c)).map(move |j| (i, j)))
            .collect();
        let mut derived_b: Vec<StringBuilder> =
            derived.iter().map(|_| StringBuilder::new()).collect();
        // Term-frequency keys per comparison, per record.
        let tf_of: Vec<usize> = (0..settings.comparisons.len())
            .filter(|&i| settings.comparisons[i].term_frequency)
            .collect();
        // Interned: distinct values (names repeat a lot) and one number per record.
        let mut tf_values: Vec<HashMap<String, u32>> =
            tf_of.iter().map(|_| HashMap::new()).collect();
        let mut tf_keys: Vec<Vec<Option<u32>>> = tf_of.iter().map(|_| Vec::new()).collect();
        let mut problems = Vec::new();
        let mut per_list = Vec::new();
        let mut truth = truth_column.map(|_| Vec::new());
        let mut truth_values: HashMap<String, u32> = HashMap::new();
        let mut rows_read = 0;
        let mut n = 0i64;
        // (list, identifier) pairs seen, by a 128-bit digest (no string kept per record).
        let mut seen_ids: HashMap<u128, u8> = HashMap::new();
        for f in files {
            let l = match pending.take() {
                Some(l) => l,
                None => read(f)?,
            };
            rows_read += l.rows_read;
            problems.extend(l.problems.iter().map(|p| (l.file.clone(), p.clone())));
            let index: Vec<Option<usize>> = headers
                .iter()
                .map(|h| l.headers.iter().position(|x| x == h))
                .collect();
            let pos = |name: &str| l.headers.iter().position(|x| x == name);
            let id_pos = pos(&settings.unique_id_column);
            let source_pos = settings.source_column.as_deref().and_then(pos);
            let truth_pos = truth_column.and_then(pos);
            per_list.push((l.name.clone(), l.rows.len()));
            for (line, row) in l.rows {
                let get = |p: Option<usize>| p.and_then(|p| row.get(p)).map(|s| s.trim());
                let list = get(source_pos)
                    .filter(|s| !s.is_empty())
                    .unwrap_or(&l.name)
                    .to_string();
                let id = match get(id_pos).filter(|s| !s.is_empty()) {
                    Some(id) => id.to_string(),
                    None => {
                        problems.push((
                            l.file.clone(),
                            Problem {
                                line,
                                column: settings.unique_id_column.clone(),
                                value: String::new(),
                                message: format!("no record identifier; the record is kept as 'line {line}'"),
                                message_es: format!("falta el identificador del registro; se guarda como 'line {line}'"),
                                imported: true,
                            },
                        ));
                        format!("line {line}")
                    }
                };
                let mut digest = blake3::Hasher::new();
                digest.update(list.as_bytes());
                digest.update(&[0]);
                digest.update(id.as_bytes());
                let digest = u128::from_le_bytes(
                    digest.finalize().as_bytes()[..16]
                        .try_into()
                        .unwrap_or([0; 16]),
                );
                let count = seen_ids.entry(digest).or_insert(0);
                *count = count.saturating_add(1);
                if *count == 2 {
                    problems.push((
                        l.file.clone(),
                        Problem {
                            line,
                            column: settings.unique_id_column.clone(),
                            value: id.clone(),
                            message: format!("the identifier '{id}' appears more than once in list '{list}'; both records are kept"),
                            message_es: format!("el identificador '{id}' aparece más de una vez en la lista '{list}'; se guardan ambos registros"),
                            imported: true,
                        },
                    ));
                }
                rid.append_value(n);
                list_b.append_value(&list);
                id_b.append_value(&id);
                line_b.append_value(line as i64);
                for ((h, b), p) in headers.iter().zip(cols.iter_mut()).zip(&index) {
                    let v = get(*p).unwrap_or("");
                    if v.is_empty() {
                        b.append_null();
                    } else if folded.contains(&h.as_str()) {
                        let f = recuento_text::fold(v);
                        b.append_option((!f.is_empty()).then_some(f));
                    } else {
                        b.append_value(v);
                    }
                }
                let by_name = |name: &str| get(pos(name)).map(str::to_string);
                for ((ci, j), b) in derived.iter().zip(derived_b.iter_mut()) {
                    let c = &settings.comparisons[*ci];
                    b.append_option(comparison_value(c, *j, &by_name));
                }
                for ((t, values), &ci) in tf_keys.iter_mut().zip(&mut tf_values).zip(&tf_of) {
                    let c = &settings.comparisons[ci];
                    let parts: Vec<String> = (0..values_compared(c))
                        .filter_map(|j| comparison_value(c, j, &by_name))
                        .collect();
                    t.push((!parts.is_empty()).then(|| {
                        let next = values.len() as u32;
                        *values.entry(parts.join(" ")).or_insert(next)
                    }));
                }
                if let Some(t) = truth.as_mut() {
                    t.push(get(truth_pos).filter(|s| !s.is_empty()).map(|s| {
                        match truth_values.get(s) {
                            Some(&v) => v,
                            None => {
                                let next = truth_values.len() as u32;
                                truth_values.insert(s.to_string(), next);
                                next
                            }
                        }
                    }));
                }
                n += 1;
            }
        }
        let mut fields = vec![
            Field::new("rid", DataType::Int64, false),
            Field::new("list", DataType::Utf8, false),
            Field::new("record_id", DataType::Utf8, false),
            Field::new("line", DataType::Int64, false),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(rid.finish()),
            Arc::new(list_b.finish()),
            Arc::new(id_b.finish()),
            Arc::new(line_b.finish()),
        ];
        for (h, mut b) in headers.iter().zip(cols) {
            if ["rid", "list", "record_id", "line"].contains(&h.as_str()) {
                continue;
            }
            fields.push(Field::new(h, DataType::Utf8, true));
            arrays.push(Arc::new(b.finish()));
        }
        for ((ci, j), mut b) in derived.iter().zip(derived_b) {
            fields.push(Field::new(
                value_column(&settings.comparisons[*ci], *j),
                DataType::Utf8,
                true,
            ));
            arrays.push(Arc::new(b.finish()));
        }
        for ((keys, values), &ci) in tf_keys.iter().zip(&tf_values).zip(&tf_of) {
            let mut freq = vec![0u64; values.len()];
            let mut total = 0u64;
            for &k in keys.iter().flatten() {
                freq[k as usize] += 1;
                total += 1;
            }
            let mut b = Float64Builder::new();
            for k in keys {
                b.append_option(k.map(|k| freq[k as usize] as f64 / total.max(1) as f64));
            }
            fields.push(Field::new(
                format!("{}__tf", settings.comparisons[ci].name),
                DataType::Float64,
                true,
            ));
            arrays.push(Arc::new(b.finish()));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;

        // Blocking expressions become key columns.
        let mut exprs: Vec<String> = Vec::new();
        let mut rules = Vec::new();
        for (i, rule) in settings.blocking_rules.iter().enumerate() {
            let mut conditions = Vec::new();
            let mut columns = Vec::new();
            let mut filters = Vec::new();
            for cond in rule {
                if names_both_records(cond) {
                    // Checked on each pair; the columns it reads are not a random sample
                    // among the rule's pairs, so EM leaves their comparisons out there.
                    columns.extend(mentioned(cond, &headers));
                    filters.push(format!("({})", cond.trim()));
                    continue;
                }
                let (a, b) = cond
                    .split_once('=')
                    .map_or((cond.trim(), cond.trim()), |(a, b)| (a.trim(), b.trim()));
                let mut key = |e: &str| {
                    columns.extend(mentioned(e, &headers));
                    let pos = exprs.iter().position(|x| x == e).unwrap_or_else(|| {
                        exprs.push(e.to_string());
                        exprs.len() - 1
                    });
                    format!("bk_{pos}")
                };
                conditions.push((key(a), key(b)));
            }
            if conditions.is_empty() {
                return Err(Error::Plan(format!(
                    "blocking rule {} ({}) only has conditions over `l.` and `r.`; it needs at least one column or expression both records share, to find its pairs",
                    i + 1,
                    rule.join(", ")
                )));
            }
            rules.push(PlanRule {
                text: rule.join(", "),
                conditions,
                columns,
                filter: (!filters.is_empty()).then(|| filters.join(" AND ")),
                key_text: Vec::new(),
            });
        }
        let keys: Vec<(String, String)> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let e = if headers.iter().any(|h| h == e) {
                    quoted(e)
                } else {
                    e.clone()
                };
                (format!("CAST({e} AS VARCHAR)"), format!("bk_{i}"))
            })
            .collect();
        // The key columns hold numbers; the largest blocks are reported with their text.
        let text_of: HashMap<&str, &str> = keys
            .iter()
            .map(|(sql, name)| (name.as_str(), sql.as_str()))
            .collect();
        for rule in &mut rules {
            rule.key_text = rule
                .conditions
                .iter()
                .map(|(a, _)| text_of.get(a.as_str()).map_or(a.clone(), |t| t.to_string()))
                .collect();
        }
        // Computed on the batch itself (no copy of the other columns), then the table is
        // registered as slices of that one batch, which the linker also looks pairs up in.
        // Keys an asymmetric condition compares share a numbering (union of their groups).
        let mut groups: Vec<usize> = (0..keys.len()).collect();
        for rule in &rules {
            for (a, b) in &rule.conditions {
                let index = |k: &str| keys.iter().position(|(_, name)| name == k);
                if let (Some(a), Some(b)) = (index(a), index(b)) {
                    let (from, to) = (groups[a].max(groups[b]), groups[a].min(groups[b]));
                    groups
                        .iter_mut()
                        .filter(|g| **g == from)
                        .for_each(|g| *g = to);
                }
            }
        }
        // Folded columns were folded as they were read; the others were kept as written. An
        // asymmetric condition between the two kinds (`surname=mother_name`, the second not
        // compared) would then compare `garcia` with `García` and miss the pair: the keys of
        // such a group that read a column kept as written are folded too.
        let reads_folded: Vec<(bool, bool)> = exprs
            .iter()
            .map(|e| {
                let columns = mentioned(e, &headers);
                (
                    columns.iter().any(|c| folded.contains(&c.as_str())),
                    columns.iter().any(|c| !folded.contains(&c.as_str())),
                )
            })
            .collect();
        let fold_key: Vec<bool> = (0..keys.len())
            .map(|i| {
                reads_folded[i].1
                    && (0..keys.len())
                        .any(|j| j != i && groups[j] == groups[i] && reads_folded[j].0)
            })
            .collect();
        let records = self.with_block_keys(batch, &keys, &groups, &fold_key)?;
        let records = with_coded_comparisons(records, &settings.comparisons)?;
        let _ = self.ctx.deregister_table("records")?;
        let mut partitions: Vec<Vec<RecordBatch>> = vec![Vec::new(); 2];
        let mut offset = 0;
        while offset < records.num_rows() {
            let len = (records.num_rows() - offset).min(8192);
            partitions[(offset / 8192) % 2].push(records.slice(offset, len));
            offset += len;
        }
        partitions.retain(|p| !p.is_empty());
        if partitions.is_empty() {
            return Err(Error::Plan("the input files hold no records".into()));
        }
        self.ctx.register_table(
            "records",
            Arc::new(MemTable::try_new(records.schema(), partitions)?),
        )?;
        // A rule's filter is compiled on pairs later; a column it misspells is said now, with
        // the rule's number.
        let both = crate::linker::pair_schema(&records.schema())?;
        for (i, rule) in rules.iter().enumerate() {
            if let Some(f) = &rule.filter {
                self.ctx.parse_sql_expr(f, &both).map_err(|e| {
                    Error::Plan(format!(
                        "blocking rule {} ({}): the condition over l. and r. cannot be computed on these files ({e}); write columns as l.column and r.column as they are in the header, in double quotes if they have capitals or spaces",
                        i + 1,
                        rule.text
                    ))
                })?;
            }
        }
        self.set_records_cache(Some(records));

        let sizes = self.list_sizes().await?;
        let no_dup = |list: &str| settings.no_duplicates.iter().any(|x| x == list);
        let (pair_filter, total_pairs) = match settings.link_type {
            LinkType::DedupeOnly => (None, allowed_pairs(&sizes, |_| true)),
            LinkType::LinkOnly => (
                Some("l.list <> r.list".to_string()),
                allowed_pairs(&sizes, |_| false),
            ),
            LinkType::LinkAndDedupe => {
                let names: Vec<String> = settings
                    .no_duplicates
                    .iter()
                    .map(|n| format!("'{}'", n.replace('\'', "''")))
                    .collect();
                (
                    (!names.is_empty()).then(|| {
                        format!("NOT (l.list = r.list AND l.list IN ({}))", names.join(", "))
                    }),
                    allowed_pairs(&sizes, |l| !no_dup(l)),
                )
            }
        };
        Ok(GenericInput {
            plan: LinkPlan {
                comparisons: settings.comparisons.iter().map(comparison_plan).collect(),
                rules,
                pair_filter,
                total_pairs,
                u_sample_pairs: settings.u_sample_pairs,
                max_em_iterations: settings.max_em_iterations,
                max_block_size: settings.max_block_size,
                threshold: settings.threshold,
                seed: settings.seed,
                frozen: None,
            },
            per_list,
            problems,
            rows_read,
            truth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::names_both_records;

    #[test]
    fn conditions_over_both_records_are_told_from_keys() {
        for filter in [
            "l.birth_date IS NULL OR r.birth_date IS NULL",
            "(l.\"Birth date\" IS NULL)",
            "abs(l.age - r.age) <= 2",
        ] {
            assert!(names_both_records(filter), "{filter}");
        }
        for key in [
            "surname",
            "substr(birth_date, 1, 4)",
            "surname=given_name",
            "split_part(given_names, ' ', 1)",
            "replace(surname, 'l.', '')",
            "nl.x",
            "\"col r.x\"",
        ] {
            assert!(!names_both_records(key), "{key}");
        }
    }
}
