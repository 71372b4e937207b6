//! Capture histories: from people to the table estimators read, and from a CSV file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use recuento_model::spreadsheet::{from_safe_cell, safe_cell};
use recuento_model::{CaptureHistories, ListSpec};

/// Capture histories from a person per record: `person_of[i]` and `list_of[i]` for record `i`,
/// `stratum_of[i]` the record's stratum values (the most common non-empty value among a person's
/// records is the person's; ties go to the smallest value, so results are deterministic).
pub fn from_people(
    lists: &[String],
    strata: &[String],
    person_of: &[usize],
    list_of: &[usize],
    stratum_of: &[Vec<Option<String>>],
) -> CaptureHistories {
    let persons = person_of.iter().max().map_or(0, |m| m + 1);
    let mut pattern = vec![0u16; persons];
    let mut votes: Vec<Vec<BTreeMap<&str, usize>>> =
        vec![vec![BTreeMap::new(); strata.len()]; persons];
    for (r, &p) in person_of.iter().enumerate() {
        pattern[p] |= 1 << list_of[r];
        for (s, v) in stratum_of
            .get(r)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if let Some(v) = v {
                *votes[p][s].entry(v.as_str()).or_default() += 1;
            }
        }
    }
    let mut counts: BTreeMap<(Vec<String>, u16), u64> = BTreeMap::new();
    for p in 0..persons {
        let values: Vec<String> = votes[p]
            .iter()
            .map(|v| {
                v.iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map_or("unknown".to_string(), |(k, _)| (*k).to_string())
            })
            .collect();
        *counts.entry((values, pattern[p])).or_default() += 1;
    }
    CaptureHistories {
        lists: lists.to_vec(),
        strata: strata.to_vec(),
        rows: counts.into_iter().map(|((s, p), n)| (s, p, n)).collect(),
    }
}

/// Names a count column may have (compared without case): `count`, R's `Freq` (from
/// `as.data.frame(table(...))`) and `n` (from dplyr's `count()`), and the Spanish words
/// documentation teams use.
const COUNT_NAMES: [&str; 9] = [
    "count",
    "freq",
    "frequency",
    "n",
    "frecuencia",
    "conteo",
    "cuenta",
    "cantidad",
    "casos",
];

/// Whether a cell says the person is on the list: `1`/`0`, and what spreadsheets and R write
/// for them (`1.0`, `TRUE`/`FALSE`, `yes`/`no`, `sí`/`no`), without case.
fn on_list(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" | "sí" | "si" => Some(true),
        "0" | "0.0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Marks a spreadsheet may use for "on the list" in a column that leaves the others blank.
/// (Not ✗, which some teams write for "no".)
const MARKS: [&str; 4] = ["x", "✓", "✔", "*"];

/// Per list column, whether a blank cell means "not on the list": the column marks only who is
/// on it (`x`, `1`, `sí`… and blanks, never a `0` or `no`), as teams often fill spreadsheets.
/// Where a column also has explicit "not on the list" values, a blank is a gap and is refused.
fn blank_means_absent(raw: &recuento_engine::ingest::RawList, list_cols: &[usize]) -> Vec<bool> {
    list_cols
        .iter()
        .map(|&c| {
            let (mut blanks, mut present) = (0usize, 0usize);
            for (_, rec) in &raw.rows {
                let value = rec.get(c).unwrap_or("").trim();
                if value.is_empty() {
                    blanks += 1;
                } else if MARKS.contains(&value.to_lowercase().as_str())
                    || on_list(value) == Some(true)
                {
                    present += 1;
                } else {
                    return false;
                }
            }
            blanks > 0 && present > 0
        })
        .collect()
}

/// Whether a column's values are identifiers: three rows or more, every value filled and
/// different, and none a presence mark or a number (numbers could be a count under another
/// name, which the refusal's hint covers).
fn is_identifier<'a>(values: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = std::collections::HashSet::new();
    for v in values {
        let v = v.trim();
        if v.is_empty()
            || on_list(v).is_some()
            || MARKS.contains(&v.to_lowercase().as_str())
            || v.parse::<f64>().is_ok()
            || !seen.insert(v)
        {
            return false;
        }
    }
    seen.len() >= 3
}

/// Thousands written with a separator (`1.234`, `12,500`, `12 500`): the number without it.
fn grouped_thousands(value: &str) -> Option<String> {
    let sep = ['.', ',', ' ', '\u{a0}', '\u{202f}']
        .into_iter()
        .find(|&c| value.contains(c))?;
    let mut parts = value.split(sep);
    let head = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let grouped = !rest.is_empty()
        && (1..=3).contains(&head.len())
        && head.chars().all(|c| c.is_ascii_digit())
        && rest
            .iter()
            .all(|p| p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()));
    grouped.then(|| value.replace(sep, ""))
}

/// A count of people: a whole number, also when a spreadsheet wrote it as `12.0`. Not
/// `2.000`, which is two in English and two thousand in Spanish: refused, with a hint.
fn count(value: &str) -> Option<u64> {
    if let Ok(n) = value.parse::<u64>() {
        return Some(n);
    }
    if grouped_thousands(value).is_some() {
        return None;
    }
    let x: f64 = value.parse().ok()?;
    (x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 9e15).then_some(x as u64)
}

/// Names a column of capture patterns may have, compared in lower case without spaces, `_`,
/// `-` or `.`: Rcapture's and MARK's words and the Spanish ones.
const PATTERN_NAMES: [&str; 11] = [
    "pattern",
    "capturepattern",
    "history",
    "capturehistory",
    "ch",
    "patron",
    "patrón",
    "patrondecaptura",
    "patróndecaptura",
    "historia",
    "historiadecaptura",
];

/// Whether a column's name is one of [`PATTERN_NAMES`].
fn pattern_name(header: &str) -> bool {
    let key: String = header
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .collect();
    PATTERN_NAMES.contains(&key.as_str())
}

/// A capture pattern written as digits, one per list (`01101`): the digits, without the `.0`
/// a spreadsheet may add to a number. `None` when the value is anything else.
fn pattern_digits(value: &str) -> Option<&str> {
    let v = value.trim();
    let v = v.strip_suffix(".0").unwrap_or(v);
    (!v.is_empty() && v.bytes().all(|b| b == b'0' || b == b'1')).then_some(v)
}

/// The number of lists of a column of capture patterns (`01101`, one digit per list, as
/// Rcapture, MARK and many published tables write them): every value is such a pattern, the
/// longest has 2 to 16 digits, and either all have the same length or the column is named as
/// one ([`PATTERN_NAMES`]). Under such a name shorter values are read with zeros in front,
/// because a spreadsheet that took the patterns for numbers dropped them (`010` became `10`),
/// and a value that is not a pattern is refused row by row.
fn pattern_column<'a>(header: &str, values: impl Iterator<Item = &'a str>) -> Option<usize> {
    let named = pattern_name(header);
    let (mut shortest, mut longest) = (usize::MAX, 0usize);
    for value in values {
        match pattern_digits(value) {
            Some(digits) => {
                shortest = shortest.min(digits.len());
                longest = longest.max(digits.len());
            }
            None if named => {}
            None => return None,
        }
    }
    ((2..=16).contains(&longest) && (named || shortest == longest)).then_some(longest)
}

/// Words a spreadsheet writes in the row of totals under a table, compared in lower case.
const TOTAL_WORDS: [&str; 8] = [
    "total",
    "totales",
    "total general",
    "grand total",
    "suma",
    "sum",
    "todas",
    "todos",
];

/// Whether a cell names a row of totals (`Total`, `Suma:`…).
fn total_word(value: &str) -> bool {
    let v = value.trim().trim_end_matches(':').to_lowercase();
    TOTAL_WORDS.contains(&v.as_str())
}

/// How many problems a refusal lists before it counts the rest.
const PROBLEMS_SHOWN: usize = 20;

/// A refusal in English, then in Spanish for the documentation teams who prepare the tables.
fn both(en: &str, es: &str) -> anyhow::Error {
    anyhow!("{en}\nEn español: {es}")
}

/// The refusal of a table with problems, each given in English and Spanish: every problem up
/// to [`PROBLEMS_SHOWN`], the count of the others, and a hint when a column looks like
/// something other than a list.
fn problems_message(
    file: &str,
    errors: &[(String, String)],
    hint: (String, String),
) -> anyhow::Error {
    let block = |spanish: bool| {
        let pick = |e: &(String, String)| if spanish { e.1.clone() } else { e.0.clone() };
        let mut m = match errors {
            [one] => format!("{file}: {}", pick(one)),
            _ => {
                let mut m = if spanish {
                    format!("{file}: {} problemas; no se estimó nada:", errors.len())
                } else {
                    format!(
                        "{file}: {} problems, so nothing was estimated:",
                        errors.len()
                    )
                };
                for e in errors.iter().take(PROBLEMS_SHOWN) {
                    m.push_str("\n  ");
                    m.push_str(&pick(e));
                }
                if errors.len() > PROBLEMS_SHOWN {
                    let more = errors.len() - PROBLEMS_SHOWN;
                    m.push_str(&if spanish {
                        format!("\n  … y {more} más")
                    } else {
                        format!("\n  … and {more} more")
                    });
                }
                m
            }
        };
        m.push_str(if spanish { &hint.1 } else { &hint.0 });
        m
    };
    both(&block(false), &block(true))
}

/// When most rows of a column are not presence marks, the column is likely not a list: say
/// so, and how to tell recuento (every column other than the count and the strata is read as
/// a list), in English and Spanish.
fn not_marks_hint(
    list_cols: &[usize],
    headers: &[String],
    not_marks: &[usize],
    rows: usize,
    count_col: Option<usize>,
    whole_numbers: &[usize],
    patterns: &[usize],
) -> (String, String) {
    // A column of digit strings such as `0110` that was not read as capture patterns: it shares
    // the table with other list columns, or its patterns differ in length without a name that
    // says what they are.
    if let Some(bit) = (0..list_cols.len())
        .find(|&b| patterns[b] > 0 && patterns[b] == not_marks[b] && 2 * patterns[b] >= rows)
    {
        let name = &headers[list_cols[bit]];
        return (
            format!(
                "\nIf '{name}' holds capture patterns (one digit per list, as in 0110), name the column 'pattern' (or patrón, historia) and leave it as the only list column"
            ),
            format!(
                "\nSi '{name}' tiene patrones de captura (un dígito por lista, como 0110), llame a la columna 'pattern' (o patrón, historia) y déjela como la única columna de listas"
            ),
        );
    }
    let suspects: Vec<&str> = list_cols
        .iter()
        .zip(not_marks)
        .filter(|&(_, &bad)| bad > 0 && 2 * bad >= rows)
        .map(|(&c, _)| headers[c].as_str())
        .collect();
    if suspects.is_empty() {
        return (String::new(), String::new());
    }
    // A column of whole numbers, in a table without a count column, is likely the count under
    // a name recuento does not know.
    if let (None, [only]) = (count_col, &suspects[..])
        && let Some(bit) = list_cols.iter().position(|&c| headers[c] == *only)
        && whole_numbers[bit] == not_marks[bit]
    {
        return (
            format!(
                "\nIf '{only}' is the number of people in each row, name the column 'count' (or freq, n, frecuencia, conteo, cantidad); if it is a stratum (a year, say), name it with --strata; every other column is read as a list"
            ),
            format!(
                "\nSi '{only}' es el número de personas de cada fila, llame a la columna 'count' (o freq, n, frecuencia, conteo, cantidad); si es un estrato (un año, por ejemplo), indíquela con --strata; cualquier otra columna se lee como una lista"
            ),
        );
    }
    let names = suspects
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let one = suspects.len() == 1;
    (
        format!(
            "\nEvery column other than the count and the strata is read as a list. Most values of {names} are not 0 or 1: if {} not a list, name it with --strata (a stratum) or remove it from the file",
            if one { "it is" } else { "they are" }
        ),
        format!(
            "\nCada columna que no es el conteo ni un estrato se lee como una lista. La mayoría de los valores de {names} no son 0 ni 1: si no {} una lista, indíquela con --strata (un estrato) o quítela del archivo",
            if one { "es" } else { "son" }
        ),
    )
}

/// Reads a capture-history table from the file of [`read_file`], without its notes: for the
/// tables recuento writes itself.
///
/// # Errors
/// As [`read_file`].
pub fn read_csv(path: &Path, strata: &[String]) -> Result<CaptureHistories> {
    read_file(path, strata, None).map(|(h, _)| h)
}

/// Reads a capture-history table: one column per list (`1`/`0`; `TRUE`/`FALSE`, `yes`/`no`
/// and `sí`/`no` are read too) or one column of capture patterns (`01101`, read as lists
/// `list1`…; shorter patterns under a name such as `pattern` get zeros in front), an optional
/// count column (`count`, `Freq`, `n`, `frecuencia`, `conteo`, `cantidad`…; without one each
/// row is one person) and the stratum columns named in `strata`. Every other column is a
/// list. The file is read as list files are (CSV in any common encoding and delimiter, Excel
/// (the worksheet `sheet`, or the first), Parquet). Returns the table and notes on what was
/// read differently from a plain table: a first column without a name (R's row labels) is left
/// out, a row on no list with no count or count 0 is skipped, and rows without a stratum value
/// go to stratum `unknown`, as people without one do in a project; a row of totals whose count
/// is the sum of the other rows is skipped.
///
/// # Errors
/// In words, naming the file, line and column: an unreadable file, a value that is not a
/// presence mark, a count that is not a whole number, people counted on no list, a row of
/// totals that does not add up, a line of text alone (a note), a title above the column
/// names, a column without a name, a missing stratum column, fewer than 2 or more than 16
/// lists. The problems of the rows are said together (the first 20 and how many more), with a
/// hint when a column is mostly not presence marks or holds capture patterns, and, for a
/// workbook with several worksheets, their names. Refusals and notes are in English, then in
/// Spanish.
pub fn read_file(
    path: &Path,
    strata: &[String],
    sheet: Option<&str>,
) -> Result<(CaptureHistories, Vec<String>)> {
    let file = path.display().to_string();
    let mut spec = ListSpec::plain("histories", &path.to_string_lossy());
    spec.sheet = sheet.map(str::to_string);
    let raw = recuento_engine::ingest::read_table(&spec, Path::new("")).map_err(|e| match e {
        recuento_engine::Error::Unreadable {
            reason, reason_es, ..
        } => both(
            &format!("cannot read {file}: {reason}"),
            &format!("no se puede leer {file}: {reason_es}"),
        ),
        other => both(
            &format!("{file}: {other}"),
            &format!("{file}: no se pudo leer (el motivo, en inglés, arriba)"),
        ),
    })?;
    // A workbook whose table is not on the worksheet read: the refusal names the others.
    table(&raw, &file, strata).map_err(|e| match &raw.sheets[..] {
        [_, _, ..] if sheet.is_none() => {
            let sheets = raw.sheets.join(", ");
            anyhow!(
                "{e}\nThe workbook has these worksheets: {sheets}; if the table is on another, name it with --sheet\nEn español: el libro tiene estas hojas: {sheets}; si la tabla está en otra, indíquela con --sheet"
            )
        }
        _ => e,
    })
}

/// The capture-history table of a file [`read_file`] has read, and its notes.
fn table(
    raw: &recuento_engine::ingest::RawList,
    file: &str,
    strata: &[String],
) -> Result<(CaptureHistories, Vec<String>)> {
    let mut notes = Vec::new();
    // Blank rows (a spreadsheet's trailing `,,,`) hold nobody: said, not fatal.
    let (blank, problems): (Vec<_>, Vec<_>) = raw
        .problems
        .iter()
        .partition(|p| p.message.starts_with("the row is empty"));
    for p in blank {
        notes.push(format!(
            "{file}: line {}: blank row skipped\nnota: {file}: línea {}: fila en blanco, omitida",
            p.line, p.line
        ));
    }
    // Every problem is collected and said at once, so that one pass over the file mends it.
    let mut errors: Vec<(String, String)> = problems
        .iter()
        .map(|p| {
            let (column, columna) = if p.column.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!(", column '{}'", p.column),
                    format!(", columna '{}'", p.column),
                )
            };
            (
                format!("line {}{column}: {}", p.line, p.message),
                format!("línea {}{columna}: {}", p.line, p.message_es),
            )
        })
        .collect();
    // Names and values that recuento's own tables quoted for spreadsheets are read without the
    // quote.
    let headers: Vec<String> = raw
        .headers
        .iter()
        .map(|h| from_safe_cell(h).to_string())
        .collect();
    let headers = &headers;
    // R's write.csv puts row labels in a first column whose name is empty.
    let first = usize::from(headers.first().is_some_and(String::is_empty));
    if first == 1 {
        notes.push(format!(
            "{file}: the first column has no name; it was taken as row labels (as R's write.csv writes them) and not read\nnota: {file}: la primera columna no tiene nombre; se tomó como etiquetas de fila (como las escribe write.csv de R) y no se leyó"
        ));
    }
    if let Some(i) = (first..headers.len()).find(|&i| headers[i].is_empty()) {
        let n = i + 1;
        return Err(both(
            &format!(
                "{file}: column {n} has no name; name each list's column (or remove the column)"
            ),
            &format!(
                "{file}: la columna {n} no tiene nombre; ponga nombre a la columna de cada lista (o quite la columna)"
            ),
        ));
    }
    for s in strata {
        if !headers.contains(s) {
            let columns = headers[first..].join(", ");
            return Err(both(
                &format!("{file}: there is no stratum column '{s}'; columns are: {columns}"),
                &format!(
                    "{file}: no hay ninguna columna de estrato '{s}'; las columnas son: {columns}"
                ),
            ));
        }
    }
    let count_cols: Vec<usize> = (first..headers.len())
        .filter(|&i| COUNT_NAMES.contains(&headers[i].to_lowercase().as_str()))
        .collect();
    if count_cols.len() > 1 {
        let names = count_cols
            .iter()
            .map(|&i| headers[i].as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(both(
            &format!(
                "{file}: more than one column could be the count of people ({names}); keep one"
            ),
            &format!(
                "{file}: más de una columna podría ser el conteo de personas ({names}); deje una"
            ),
        ));
    }
    let count_col = count_cols.first().copied();
    // A column with a different text in every row (a record number such as `P001`, a name)
    // cannot be a list, a count or a stratum: one row per person with its identifier, as a
    // team's spreadsheet often is. It is left out, and said.
    let identifiers: Vec<usize> = (first..headers.len())
        .filter(|&i| Some(i) != count_col && !strata.contains(&headers[i]))
        .filter(|&i| is_identifier(raw.rows.iter().map(|(_, rec)| rec.get(i).unwrap_or(""))))
        .collect();
    for &i in &identifiers {
        let column = &headers[i];
        notes.push(format!(
            "{file}: column '{column}' has a different text in every row (an identifier or a name): it is not a list, and was left out (if it is a stratum, name it with --strata)\nnota: {file}: la columna '{column}' tiene un texto distinto en cada fila (un identificador o un nombre): no es una lista, y se dejó fuera (si es un estrato, indíquela con --strata)"
        ));
    }
    let list_cols: Vec<usize> = (first..headers.len())
        .filter(|&i| {
            Some(i) != count_col && !strata.contains(&headers[i]) && !identifiers.contains(&i)
        })
        .collect();
    // One column of capture patterns (`01101`) instead of a column per list.
    let patterns = match list_cols[..] {
        [c] => pattern_column(
            &headers[c],
            raw.rows.iter().map(|(_, rec)| rec.get(c).unwrap_or("")),
        )
        .map(|lists| (c, lists)),
        _ => None,
    };
    if let Some((c, lists)) = patterns {
        let column = &headers[c];
        notes.push(format!(
            "{file}: column '{column}' holds capture patterns, one digit per list: read as {lists} lists, list1 to list{lists}, in the order of the digits\nnota: {file}: la columna '{column}' tiene patrones de captura, un dígito por lista: se leyó como {lists} listas, de list1 a list{lists}, en el orden de los dígitos"
        ));
        let short = raw
            .rows
            .iter()
            .filter_map(|(_, rec)| pattern_digits(rec.get(c).unwrap_or("")))
            .filter(|d| d.len() < lists)
            .count();
        if short > 0 {
            notes.push(format!(
                "{file}: {short} pattern(s) in '{column}' have fewer than {lists} digits; they were read with zeros in front (a spreadsheet that takes patterns for numbers drops them: 010 becomes 10)\nnota: {file}: {short} patrón(es) de '{column}' tienen menos de {lists} dígitos; se leyeron con ceros delante (una hoja de cálculo que toma los patrones por números los quita: 010 queda en 10)"
            ));
        }
    }
    // Models are written with the lists' names (`a:b + c`), so a name holding ':' or '+' would
    // make them unreadable.
    if let Some(&c) = list_cols
        .iter()
        .find(|&&c| headers[c].contains(':') || headers[c].contains('+'))
    {
        let (name, suggested) = (
            &headers[c],
            headers[c]
                .replace(':', " ")
                .replace('+', " y ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        return Err(both(
            &format!(
                "{file}: column '{name}': a list's name cannot contain ':' or '+', which write the models (a:b + c); rename the column (e.g. '{suggested}')"
            ),
            &format!(
                "{file}: columna '{name}': el nombre de una lista no puede llevar ':' ni '+', que escriben los modelos (a:b + c); cambie el nombre de la columna (por ejemplo, '{suggested}')"
            ),
        ));
    }
    // A title or notes above the column names: the first line is taken for the names, and the
    // table's rows below are wider than it.
    if patterns.is_none()
        && list_cols.len() < 2
        && let Some(line) = raw.first_wider_line
    {
        let names = headers[first..].join(", ");
        return Err(both(
            &format!(
                "{file}: the first line must hold the column names, but it has only '{names}', and line {line} and others below have more values: remove the title or notes above the column names (they seem to be on line {line})"
            ),
            &format!(
                "{file}: la primera línea debe tener los nombres de las columnas, pero solo tiene '{names}', y la línea {line} y otras más abajo tienen más valores: quite el título o las notas que hay encima de los nombres de las columnas (parecen estar en la línea {line})"
            ),
        ));
    }
    if patterns.is_none() && (list_cols.len() < 2 || list_cols.len() > 16) {
        let (n, names) = (
            list_cols.len(),
            list_cols
                .iter()
                .map(|&i| headers[i].as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
        // One column of digit strings whose lengths differ: patterns that lost their zeros in
        // front, under a name that does not say they are patterns.
        let (hint, pista) = match list_cols[..] {
            [c] if raw.rows.iter().all(|(_, rec)| {
                pattern_digits(rec.get(c).unwrap_or("")).is_some_and(|d| d.len() <= 16)
            }) && raw.rows.iter().any(|(_, rec)| {
                pattern_digits(rec.get(c).unwrap_or("")).is_some_and(|d| d.len() > 1)
            }) =>
            {
                let name = &headers[c];
                (
                    format!(
                        ". If '{name}' holds capture patterns (one digit per list, as in 0110) that lost their zeros in front, name the column 'pattern' (or patrón, historia) and they are read with the zeros put back"
                    ),
                    format!(
                        ". Si '{name}' tiene patrones de captura (un dígito por lista, como 0110) que perdieron los ceros delante, llame a la columna 'pattern' (o patrón, historia) y se leerán con los ceros repuestos"
                    ),
                )
            }
            _ => Default::default(),
        };
        return Err(both(
            &format!(
                "{file}: found {n} list column(s) ({names}); recuento needs 2 to 16 lists{hint}"
            ),
            &format!(
                "{file}: hay {n} columna(s) de listas ({names}); recuento necesita de 2 a 16 listas{pista}"
            ),
        ));
    }
    let stratum_cols: Vec<usize> = strata
        .iter()
        .filter_map(|s| headers.iter().position(|h| h == s))
        .collect();
    let mut counts: BTreeMap<(Vec<String>, u16), u64> = BTreeMap::new();
    let mut no_stratum = 0usize;
    // Per list column, the rows whose value is not a presence mark: a column that is mostly
    // such values is likely not a list at all (an identifier, a date, a stratum).
    let mut not_marks = vec![0usize; list_cols.len()];
    // Of those, the ones that are whole numbers: a count column under another name.
    let mut whole_numbers = vec![0usize; list_cols.len()];
    // And those that are strings of 0s and 1s: capture patterns, in a column not read as them.
    let mut digit_strings = vec![0usize; list_cols.len()];
    // The columns read one per list: none when one column holds the patterns.
    let per_list: &[usize] = if patterns.is_some() { &[] } else { &list_cols };
    let marks_only = blank_means_absent(raw, per_list);
    if marks_only.iter().any(|&m| m) {
        let names = list_cols
            .iter()
            .zip(&marks_only)
            .filter(|&(_, &m)| m)
            .map(|(&c, _)| format!("'{}'", headers[c]))
            .collect::<Vec<_>>()
            .join(", ");
        notes.push(format!(
            "{file}: {names}: these columns mark only who is on the list (x, 1, sí…), so a blank cell was read as not on the list\nnota: {file}: {names}: estas columnas marcan solo a quien está en la lista (x, 1, sí…), así que una celda en blanco se leyó como que no está en la lista"
        ));
    }
    // A row of totals under the table (`Total,,,271`): no list marked, a total word or nothing
    // where the marks go, and a count. When its count is the sum of the other rows it is
    // certainly that, and is skipped; otherwise it is refused as one.
    let mark_cols: Vec<usize> = patterns.map_or_else(|| per_list.to_vec(), |(c, _)| vec![c]);
    let total_row = |rec: &recuento_engine::ingest::Row| {
        count_col.is_some()
            && mark_cols.iter().all(|&c| {
                let v = rec.get(c).unwrap_or("").trim();
                v.is_empty() || total_word(v)
            })
            && count(rec.get(count_col.unwrap_or(0)).unwrap_or("")).is_some_and(|n| n > 0)
    };
    let counted = |rec: &recuento_engine::ingest::Row| {
        count_col.map_or(Some(1), |c| count(rec.get(c).unwrap_or("")))
    };
    let all_rows: u64 = raw.rows.iter().filter_map(|(_, rec)| counted(rec)).sum();
    for (line, rec) in &raw.rows {
        if total_row(rec) {
            let n = counted(rec).unwrap_or(0);
            let (value, column) = (n.to_string(), &headers[count_col.unwrap_or(0)]);
            if 2 * n == all_rows {
                notes.push(format!(
                    "{file}: line {line} is the row of totals (its count, {n}, is the sum of the other rows): skipped\nnota: {file}: línea {line}: es la fila de totales (su conteo, {n}, es la suma de las demás filas): se omitió"
                ));
            } else if let Some(word) = mark_cols
                .iter()
                .map(|&c| rec.get(c).unwrap_or("").trim())
                .find(|v| total_word(v))
            {
                let others = all_rows - n;
                errors.push((
                    format!("line {line}, column '{column}': the row looks like a row of totals ('{word}'), but its count, {value}, is not the sum of the other rows, {others}: remove the row, or mend the counts"),
                    format!("línea {line}, columna '{column}': la fila parece una fila de totales ('{word}'), pero su conteo, {value}, no es la suma de las demás filas, {others}: quite la fila, o corrija los conteos"),
                ));
            } else {
                errors.push((
                    format!("line {line}: the row marks no list but counts {value} people: fill in the lists they are on (or remove the row, if it is a row of totals)"),
                    format!("línea {line}: la fila no marca ninguna lista pero cuenta {value} personas: indique en qué listas están (o quite la fila, si es una fila de totales)"),
                ));
            }
            continue;
        }
        // A line of text alone under or in the table (a source, a note): one cell filled, and
        // not with a mark or a number.
        let filled: Vec<&str> = (first..headers.len())
            .map(|c| rec.get(c).unwrap_or("").trim())
            .filter(|v| !v.is_empty())
            .collect();
        if let [text] = filled[..]
            && on_list(text).is_none()
            && !MARKS.contains(&text.to_lowercase().as_str())
            && text.parse::<f64>().is_err()
        {
            errors.push((
                format!("line {line}: the row holds only the text '{text}', not marks of lists: if it is a note or a source, remove it from the table"),
                format!("línea {line}: la fila solo tiene el texto '{text}', no marcas de listas: si es una nota o una fuente, quítela de la tabla"),
            ));
            continue;
        }
        let mut pattern = 0u16;
        let mut readable = true;
        if let Some((c, lists)) = patterns {
            let value = rec.get(c).unwrap_or("");
            match pattern_digits(value) {
                // The first digit is the first list; missing digits are zeros in front.
                Some(d) => {
                    for (i, b) in d.bytes().rev().enumerate() {
                        if b == b'1' {
                            pattern |= 1 << (lists - 1 - i);
                        }
                    }
                }
                None => {
                    readable = false;
                    let column = &headers[c];
                    errors.push((
                        format!("line {line}, column '{column}': expected a capture pattern of {lists} digits 0 or 1 (one per list), found '{value}'"),
                        format!("línea {line}, columna '{column}': se esperaba un patrón de captura de {lists} dígitos 0 o 1 (uno por lista), y hay '{value}'"),
                    ));
                }
            }
        }
        for (bit, &c) in per_list.iter().enumerate() {
            let value = rec.get(c).unwrap_or("");
            // In a column of marks only, every value is a mark or a blank (checked above).
            let mark = if marks_only[bit] {
                Some(!value.trim().is_empty())
            } else {
                on_list(value)
            };
            match mark {
                Some(true) => pattern |= 1 << bit,
                Some(false) => {}
                None => {
                    not_marks[bit] += 1;
                    whole_numbers[bit] += usize::from(count(value).is_some());
                    digit_strings[bit] +=
                        usize::from(pattern_digits(value).is_some_and(|d| d.len() > 1));
                    readable = false;
                    let column = &headers[c];
                    errors.push((
                        format!("line {line}, column '{column}': expected 0 or 1 (TRUE/FALSE, yes/no and sí/no are read too; a column with no 0 may mark with x and leave the others blank), found '{value}'"),
                        format!("línea {line}, columna '{column}': se esperaba 0 o 1 (también se leen TRUE/FALSE, yes/no y sí/no; una columna sin ningún 0 puede marcar con x y dejar las demás en blanco), y hay '{value}'"),
                    ));
                }
            }
        }
        let value = count_col.map_or("1", |c| rec.get(c).unwrap_or(""));
        let missing = matches!(value, "" | "NA" | "." | "-");
        let n = match count(value) {
            Some(n) => n,
            None if pattern == 0 && missing => 0,
            None => {
                let column = &headers[count_col.unwrap_or(0)];
                // `1.234` is a thousand and more in Spanish and one and a bit in English: asked,
                // not guessed.
                let (hint, pista) = grouped_thousands(value).map_or_else(Default::default, |n| {
                    (
                        format!(" (if it means {n}, write it without the separator)"),
                        format!(" (si quiere decir {n}, escríbalo sin el separador)"),
                    )
                });
                errors.push((
                    format!("line {line}, column '{column}': '{value}' is not a whole number of people{hint}"),
                    format!("línea {line}, columna '{column}': '{value}' no es un número entero de personas{pista}"),
                ));
                continue;
            }
        };
        if !readable {
            continue;
        }
        if pattern == 0 {
            if n > 0 {
                errors.push((
                    format!("line {line}: {n} people counted on no list; nobody on no list can be observed, so remove the row (recuento estimates them itself)"),
                    format!("línea {line}: {n} personas contadas en ninguna lista; nadie que no esté en ninguna lista puede observarse, así que quite la fila (recuento las estima por sí mismo)"),
                ));
            } else {
                notes.push(format!(
                    "{file}: line {line}: the row on no list (count '{value}') was skipped\nnota: {file}: línea {line}: la fila de ninguna lista (conteo '{value}') se omitió"
                ));
            }
            continue;
        }
        // As in a project, a person with no value for a stratum is in its stratum `unknown`.
        let values: Vec<String> = stratum_cols
            .iter()
            .map(|&c| match rec.get(c).unwrap_or("") {
                "" => {
                    no_stratum += 1;
                    "unknown".to_string()
                }
                v => from_safe_cell(v).to_string(),
            })
            .collect();
        *counts.entry((values, pattern)).or_default() += n;
    }
    if !errors.is_empty() {
        return Err(problems_message(
            file,
            &errors,
            not_marks_hint(
                &list_cols,
                headers,
                &not_marks,
                raw.rows.len(),
                count_col,
                &whole_numbers,
                &digit_strings,
            ),
        ));
    }
    if no_stratum > 0 {
        notes.push(format!(
            "{file}: {no_stratum} row(s) have no value in a stratum column; they are in stratum 'unknown'\nnota: {file}: {no_stratum} fila(s) no tienen valor en una columna de estrato; quedan en el estrato 'unknown'"
        ));
    }
    let histories = CaptureHistories {
        lists: match patterns {
            Some((_, lists)) => (1..=lists).map(|i| format!("list{i}")).collect(),
            None => list_cols.iter().map(|&c| headers[c].clone()).collect(),
        },
        strata: strata.to_vec(),
        rows: counts
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((s, p), n)| (s, p, n))
            .collect(),
    };
    Ok((histories, notes))
}

/// Writes capture histories as CSV (the same format [`read_csv`] reads).
///
/// # Errors
/// Write failures.
pub fn write_csv(h: &CaptureHistories, path: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    // Names and stratum values come from the lists and the settings: quoted where a
    // spreadsheet would take them for a formula.
    let mut header: Vec<String> = h.lists.iter().map(|l| safe_cell(l).into_owned()).collect();
    header.extend(h.strata.iter().map(|s| safe_cell(s).into_owned()));
    header.push("count".into());
    w.write_record(&header)?;
    for (values, pattern, n) in &h.rows {
        let mut row: Vec<String> = (0..h.lists.len())
            .map(|i| if pattern & (1 << i) != 0 { "1" } else { "0" }.to_string())
            .collect();
        row.extend(values.iter().map(|v| safe_cell(v).into_owned()));
        row.push(n.to_string());
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_to_patterns_with_strata() {
        let lists = vec!["a".to_string(), "b".to_string()];
        let h = from_people(
            &lists,
            &["sex".to_string()],
            &[0, 0, 1],
            &[0, 1, 1],
            &[vec![Some("M".into())], vec![None], vec![Some("F".into())]],
        );
        assert_eq!(
            h.rows,
            vec![(vec!["F".to_string()], 2, 1), (vec!["M".to_string()], 3, 1)]
        );
    }

    #[test]
    fn count_columns_under_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.csv");
        // dplyr's count() names the column `n`.
        std::fs::write(&p, "a,b,n\n1,0,5\n1,1,2\n0,1,3\n").unwrap();
        let h = read_csv(&p, &[]).unwrap();
        assert_eq!((h.lists.len(), h.observed()), (2, 10));
        // A name recuento does not know: the refusal says how to name it.
        std::fs::write(&p, "a,b,personas\n1,0,5\n1,1,2\n0,1,3\n").unwrap();
        let err = format!("{:#}", read_csv(&p, &[]).unwrap_err());
        assert!(
            err.contains(
                "If 'personas' is the number of people in each row, name the column 'count'"
            ) && err.contains("Si 'personas' es el número de personas de cada fila"),
            "{err}"
        );
    }

    #[test]
    fn csv_round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.csv");
        std::fs::write(&p, "a,b,c,sex,count\n1,0,0,M,5\n1,1,0,M,2\n0,1,1,F,3\n").unwrap();
        let h = read_csv(&p, &["sex".to_string()]).unwrap();
        assert_eq!(h.lists, vec!["a", "b", "c"]);
        assert_eq!(h.observed(), 10);
        let q = dir.path().join("h2.csv");
        write_csv(&h, &q).unwrap();
        assert_eq!(read_csv(&q, &["sex".to_string()]).unwrap(), h);
        // Names and stratum values a spreadsheet would take for formulas are written quoted and
        // read back as they were.
        let hostile = CaptureHistories {
            lists: vec!["@ong".into(), "b".into()],
            strata: vec!["sex".into()],
            rows: vec![(vec!["-".into()], 3, 2), (vec!["=1+2".into()], 1, 4)],
        };
        write_csv(&hostile, &q).unwrap();
        let text = std::fs::read_to_string(&q).unwrap();
        assert!(
            text.starts_with("'@ong,b,sex,count\n") && text.contains(",'=1+2,"),
            "{text}"
        );
        assert_eq!(read_csv(&q, &["sex".to_string()]).unwrap(), hostile);
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        let err = read_csv(&p, &[]).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("'b'"), "{err}");
        // Then in Spanish, for the documentation teams.
        assert!(
            err.contains("\nEn español: ")
                && err.contains("línea 2, columna 'b': se esperaba 0 o 1"),
            "{err}"
        );
    }

    /// Tables as R, spreadsheets and Spanish-speaking teams write them read the same.
    #[test]
    fn tables_from_r_spreadsheets_and_spanish_locales_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            read_file(&p, &[], None)
        };
        let (plain, notes) = read("plain.csv", "a,b,c,count\n1,0,0,5\n1,1,0,2\n0,1,1,3\n").unwrap();
        assert!(notes.is_empty());
        // R's write.csv with row labels, logicals and its `Freq` column.
        let (h, notes) = read(
            "r.csv",
            "\"\",\"a\",\"b\",\"c\",\"Freq\"\n\"1\",TRUE,FALSE,FALSE,5\n\"2\",TRUE,TRUE,FALSE,2\n\"3\",FALSE,TRUE,TRUE,3\n",
        )
        .unwrap();
        assert_eq!(h, plain);
        assert!(notes[0].contains("row labels"), "{notes:?}");
        // A Spanish spreadsheet: semicolons, sí/no, `frecuencia`, counts written as 5.0, the
        // row on no list left with no count, and a blank last row.
        let (h, notes) = read(
            "es.csv",
            "a;b;c;frecuencia\nsí;no;no;5.0\nsí;sí;no;2\nno;sí;sí;3\nno;no;no;\n;;;\n",
        )
        .unwrap();
        assert_eq!(h, plain);
        assert_eq!(notes.len(), 2, "{notes:?}");
        for line in ["line 5: the row on no list", "line 6: blank row"] {
            assert!(notes.iter().any(|n| n.contains(line)), "{notes:?}");
        }
        // People counted on no list, two count columns and a column without a name are refused.
        let err = read("zero.csv", "a,b,count\n1,0,4\n0,0,5\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("on no list"),
            "{err}"
        );
        let err = read("two.csv", "a,b,count,n,Freq\n1,0,4,1,4\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("count, n, Freq"), "{err}");
        let err = read("colon.csv", "Fiscalía,ONG: Cristosal,count\n1,0,1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'ONG: Cristosal'") && err.contains("'ONG Cristosal'"),
            "{err}"
        );
        let err = read("unnamed.csv", "a,,b\n1,0,1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("column 2 has no name"), "{err}");
        // An Excel workbook, with numbers as numbers, on its second worksheet.
        let p = dir.path().join("tabla.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet()
            .set_name("Notas")
            .unwrap()
            .write_string(0, 0, "Fuente: elaboración propia")
            .unwrap();
        let ws = wb.add_worksheet().set_name("Tabla").unwrap();
        for (c, h) in ["a", "b", "c", "count"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in [[1, 0, 0, 5], [1, 1, 0, 2], [0, 1, 1, 3]]
            .iter()
            .enumerate()
        {
            for (c, v) in row.iter().enumerate() {
                ws.write_number(r as u32 + 1, c as u16, f64::from(*v))
                    .unwrap();
            }
        }
        wb.save(&p).unwrap();
        assert_eq!(read_file(&p, &[], Some("Tabla")).unwrap().0, plain);
        let err = read_file(&p, &[], None).unwrap_err().to_string();
        assert!(
            err.contains("The workbook has these worksheets: Notas, Tabla; if the table is on another, name it with --sheet")
                && err.contains("el libro tiene estas hojas"),
            "{err}"
        );
        let err = read_file(&p, &[], Some("Hoja1")).unwrap_err().to_string();
        assert!(err.contains("Notas, Tabla"), "{err}");
        // An empty first worksheet, as a new workbook has, names the others.
        let q = dir.path().join("vacia.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().set_name("Hoja1").unwrap();
        wb.add_worksheet()
            .set_name("Tabla")
            .unwrap()
            .write_string(0, 0, "a")
            .unwrap();
        wb.save(&q).unwrap();
        let err = read_file(&q, &[], None).unwrap_err().to_string();
        assert!(
            err.contains("worksheet 'Hoja1' is empty; worksheets in the file: Hoja1, Tabla (choose one with the setting `sheet` in recuento.toml, or --sheet)")
                && err.contains("hojas del archivo: Hoja1, Tabla"),
            "{err}"
        );
        // A row without a stratum value is in stratum `unknown`, as in a project.
        let p = dir.path().join("strata.csv");
        std::fs::write(&p, "a,b,sex,count\n1,0,F,4\n1,1,,2\n0,1,M,3\n").unwrap();
        let (h, notes) = read_file(&p, &["sex".to_string()], None).unwrap();
        assert!(
            h.rows.contains(&(vec!["unknown".to_string()], 3, 2)),
            "{h:?}"
        );
        assert!(notes[0].contains("stratum 'unknown'"), "{notes:?}");
        let err = read("bad.csv", "a,b,count\n1,0,2.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("'2.5'"), "{err}");
        // One row per person with an identifier and a name: both left out, and said.
        let (h, notes) = read(
            "people.csv",
            "id,nombre,a,b,c\nP1,Ana,1,0,0\nP2,Luis,1,0,0\nP3,Eva,1,1,0\nP4,Rosa,0,1,1\n",
        )
        .unwrap();
        assert_eq!(h.lists, ["a", "b", "c"]);
        assert_eq!(h.rows.iter().map(|r| r.2).sum::<u64>(), 4);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("column 'id' has a different text in every row"),
            "{notes:?}"
        );
        // Every problem is said at once, and a column of identifiers is named as one.
        let err = read(
            "many.csv",
            "id,a,b,count\n1,1,x,3\n2,1,0,2.5\n0,0,0,4\n4,1,1,5\n",
        )
        .unwrap_err()
        .to_string();
        for part in [
            "5 problems",
            "line 2, column 'b'",
            "line 3, column 'count': '2.5'",
            "line 4: 4 people counted on no list",
            "line 5, column 'id'",
            "'id' are not 0 or 1",
            "--strata",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(!err.contains("'b' are not"), "{err}");
        // A spreadsheet that marks who is on each list with x (or 1) and leaves the rest blank.
        let (h, notes) = read("marks.csv", "a;b;c;casos\nx;;;5\nX;x;;2\n;✓;x;3\n").unwrap();
        assert_eq!(h, plain);
        assert!(
            notes[0].contains("'a', 'b', 'c': these columns mark only who is on the list"),
            "{notes:?}"
        );
        let (h, _) = read("ones.csv", "a,b,c,count\n1,,,5\n1,1,,2\n,1,1,3\n").unwrap();
        assert_eq!(h, plain);
        // One column of capture patterns, a digit per list, as Rcapture and MARK write them.
        let (h, notes) = read("pattern.csv", "ch,count\n100,5\n110,2\n011,3\n000,0\n").unwrap();
        assert_eq!(h.lists, ["list1", "list2", "list3"]);
        assert_eq!(h.rows, plain.rows);
        assert!(
            notes[0].contains(
                "column 'ch' holds capture patterns, one digit per list: read as 3 lists"
            ) && notes[0].contains("se leyó como 3 listas"),
            "{notes:?}"
        );
        // A spreadsheet took them for numbers and dropped the zeros in front: under a pattern's
        // name they are put back, and said; a value that is not a pattern is refused.
        let (h, notes) = read("excel.csv", "Patrón;casos\n100;5\n110;2\n11;3\n").unwrap();
        assert_eq!(h.rows, plain.rows);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("1 pattern(s) in 'Patrón' have fewer than 3 digits")),
            "{notes:?}"
        );
        let err = read("bad_pattern.csv", "pattern,count\n100,5\n1x0,2\n,3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3, column 'pattern': expected a capture pattern of 3 digits 0 or 1 (one per list), found '1x0'")
                && err.contains("line 4: the row marks no list but counts 3 people: fill in the lists they are on"),
            "{err}"
        );
        // Without that name, patterns of different lengths are not guessed at: the refusal says
        // how to have them read.
        let err = read("lengths.csv", "codigo,count\n100,5\n110,2\n11,3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("found 1 list column(s) (codigo); recuento needs 2 to 16 lists. If 'codigo' holds capture patterns")
                && err.contains("llame a la columna 'pattern'"),
            "{err}"
        );
        let err = read("mixed.csv", "a,codigo,count\n1,100,5\n0,110,2\n1,11,3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("If 'codigo' holds capture patterns (one digit per list, as in 0110), name the column 'pattern'")
                && err.contains("Si 'codigo' tiene patrones de captura"),
            "{err}"
        );
        // A row of totals under the table is skipped when its count is the sum of the others,
        // and refused when it is not; a title above the names and a note under the table are
        // named as such.
        let (h, notes) = read(
            "total.csv",
            "a,b,c,count\n1,0,0,5\n1,1,0,2\n0,1,1,3\nTotal,,,10\n",
        )
        .unwrap();
        assert_eq!(h, plain);
        assert!(
            notes.iter().any(|n| n.contains(
                "line 5 is the row of totals (its count, 10, is the sum of the other rows): skipped"
            )),
            "{notes:?}"
        );
        let err = read(
            "total9.csv",
            "a,b,c,count\n1,0,0,5\n1,1,0,2\n0,1,1,3\nSuma:,,,9\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 5, column 'count': the row looks like a row of totals ('Suma:'), but its count, 9, is not the sum of the other rows, 10: remove the row")
                && err.contains("la fila parece una fila de totales"),
            "{err}"
        );
        let err = read(
            "title.csv",
            "Tabla 1. Personas por lista\n\na,b,c,count\n1,0,0,5\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("the first line must hold the column names, but it has only 'Tabla 1. Personas por lista'")
                && err.contains("(they seem to be on line 3)")
                && err.contains("parecen estar en la línea 3"),
            "{err}"
        );
        let err = read(
            "note.csv",
            "a,b,c,count\n1,0,0,5\n1,1,0,2\nFuente: elaboración propia,,,\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 4: the row holds only the text 'Fuente: elaboración propia', not marks of lists")
                && !err.contains("found ''"),
            "{err}"
        );
        // Patterns as numbers in an Excel workbook, and a list column of 0/1 stays a list.
        let (h, _) = read("one_digit.csv", "a,b,c,count\n1,0,0,5\n1,1,0,2\n0,1,1,3\n").unwrap();
        assert_eq!(h, plain);
        // Where a column also says "not on the list", a blank is a gap, not a no.
        let err = read("gap.csv", "a,b,c,count\n1,0,,5\n1,1,0,2\n0,1,1,3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2, column 'c'") && err.contains("found ''"),
            "{err}"
        );
        // Thousands with a separator are asked about, not guessed.
        let err = read("dos.csv", "a,b,count\n1,0,2.000\n1,1,3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("(if it means 2000,"), "{err}");
        let err = read("miles.csv", "a,b,count\n1,0,\"1.234\"\n1,1,3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'1.234' is not a whole number of people (if it means 1234, write it without the separator)")
                && err.contains("si quiere decir 1234"),
            "{err}"
        );
    }
}
