//! Reading lists: CSV in any common encoding and delimiter, Excel workbooks, Parquet.
//!
//! Every data row of the file is either imported (possibly with flagged problems) or reported as
//! not imported, with the line, the column and what is wrong, so that
//! `rows read = rows imported + rows not imported` always holds. A file that cannot be read at
//! all is one [`Error::Unreadable`] with a plain-words reason.

use std::path::Path;

use recuento_model::{DateOrder, Field, ListSpec};
use recuento_text::{dates, ids, normalise_sex, parse_age};
use serde::Serialize;

use crate::{Error, Result};

/// One problem found in one row: shown in the import report, never a reason to lose the row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Line in the file (CSV: physical line where the record starts; Excel: row number;
    /// Parquet: data row number).
    pub line: usize,
    /// Column header, or empty for the whole row.
    pub column: String,
    /// The value as read (shortened to 80 characters).
    pub value: String,
    /// What is wrong, in plain words.
    pub message: String,
    /// The same in Spanish, for documentation teams.
    pub message_es: String,
    /// Whether the row was still imported.
    pub imported: bool,
}

/// A list as read from its file.
#[derive(Debug, Clone)]
pub struct RawList {
    /// The list's name from `recuento.toml`.
    pub name: String,
    /// Path as configured.
    pub file: String,
    /// BLAKE3 hash of the file's bytes (the snapshot's identity).
    pub hash: String,
    /// The file's bytes, kept so the snapshot can be stored immutably.
    pub bytes: Vec<u8>,
    /// How the text was decoded (`UTF-8`, `UTF-8 with BOM`, `windows-1252`, `xlsx`, `parquet`).
    pub encoding: String,
    /// CSV delimiter used, if any.
    pub delimiter: Option<char>,
    /// Header row as read.
    pub headers: Vec<String>,
    /// Imported rows: (line, values in header order).
    pub rows: Vec<(usize, Row)>,
    /// Data rows found in the file.
    pub rows_read: usize,
    /// For a workbook, the names of all its worksheets (empty for other files): when the table
    /// is not on the worksheet read, the message can name the others.
    pub sheets: Vec<String>,
    /// The first line with more values than the header, where the column names may really be
    /// when a title or notes sit above them (the first line is taken for the names).
    pub first_wider_line: Option<usize>,
    /// Problems, by row.
    pub problems: Vec<Problem>,
}

/// One imported row: its values in header order, held in one string (a million rows of ten
/// values are two allocations each, not eleven).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    text: Box<str>,
    /// End of each value in `text`.
    ends: Box<[u32]>,
}

impl Row {
    /// A row of these values.
    pub fn new<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Row {
        let mut text = String::new();
        let mut ends = Vec::new();
        for v in values {
            text.push_str(v.as_ref());
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Row {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// The `i`-th value, if the row has one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl std::ops::Index<usize> for Row {
    type Output = str;

    /// The `i`-th value; panics past the end, like a `Vec`.
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(v) => v,
            None => panic!("row has {} values, asked for value {i}", self.len()),
        }
    }
}

impl RawList {
    /// Rows that were not imported.
    pub fn rows_not_imported(&self) -> usize {
        self.rows_read - self.rows.len()
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 80 {
        let mut t: String = s.chars().take(77).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    }
}

/// Reads one list's file (path relative to `project_dir`). Notes, sources and totals under the
/// table (a single value such as `Fuente: …` or `Total: 348`) are set aside and reported.
///
/// # Errors
/// [`Error::Unreadable`] when the file is missing, empty, not a supported format, or cannot be
/// parsed at all; [`Error::Plan`] when a mapped column is not in the header.
pub fn read_list(spec: &ListSpec, project_dir: &Path) -> Result<RawList> {
    read(spec, project_dir, true)
}

/// [`read_list`] for a table of counts (capture histories), whose reader judges rows of totals
/// itself (a total that is the sum of the rows above is skipped, another refused): nothing is
/// set aside.
///
/// # Errors
/// As [`read_list`].
pub fn read_table(spec: &ListSpec, project_dir: &Path) -> Result<RawList> {
    read(spec, project_dir, false)
}

fn read(spec: &ListSpec, project_dir: &Path, notes: bool) -> Result<RawList> {
    let path = project_dir.join(&spec.file);
    let unreadable = |reason: String, reason_es: String| Error::Unreadable {
        file: spec.file.clone(),
        reason,
        reason_es,
    };
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => unreadable(
            format!("the file does not exist (looked for {})", path.display()),
            format!("el archivo no existe (se buscó en {})", path.display()),
        ),
        _ => unreadable(
            format!("it could not be opened ({e})"),
            format!("no se pudo abrir ({e})"),
        ),
    })?;
    if bytes.is_empty() {
        return Err(unreadable(
            "the file is empty".into(),
            "el archivo está vacío".into(),
        ));
    }
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let ext = Path::new(&spec.file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut list = match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => read_excel(spec, &bytes)?,
        "parquet" => read_parquet_bytes(spec, &bytes)?,
        _ => read_csv(spec, &bytes)?,
    };
    list.hash = hash;
    list.bytes = bytes;
    check_mapping(spec, &list)?;
    if notes {
        set_aside_notes(&mut list);
    }
    flag_values(spec, &mut list);
    Ok(list)
}

fn empty_list(spec: &ListSpec, encoding: &str) -> RawList {
    RawList {
        name: spec.name.clone(),
        file: spec.file.clone(),
        hash: String::new(),
        bytes: Vec::new(),
        encoding: encoding.into(),
        delimiter: None,
        headers: Vec::new(),
        rows: Vec::new(),
        rows_read: 0,
        sheets: Vec::new(),
        first_wider_line: None,
        problems: Vec::new(),
    }
}

/// Decodes CSV bytes: a BOM wins; then the declared encoding; `auto` takes UTF-8 when the bytes
/// are valid UTF-8 and otherwise asks chardetng (Firefox's detector), which tells
/// Windows-1252 from other legacy encodings.
fn decode(spec: &ListSpec, bytes: &[u8]) -> (String, String, Vec<usize>) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        let (text, had_errors) = encoding_rs::UTF_8.decode_without_bom_handling(rest);
        let bad = bad_lines(had_errors, &text);
        return (text.into_owned(), "UTF-8 with BOM".into(), bad);
    }
    let declared = spec.encoding.to_ascii_lowercase();
    let encoding = match declared.as_str() {
        "utf-8" | "utf8" => encoding_rs::UTF_8,
        "windows-1252" | "latin-1" | "latin1" => encoding_rs::WINDOWS_1252,
        _ => {
            if std::str::from_utf8(bytes).is_ok() {
                encoding_rs::UTF_8
            } else {
                let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                det.feed(bytes, true);
                det.guess(None, chardetng::Utf8Detection::Allow)
            }
        }
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    let name = if declared == "auto" {
        format!("{} (detected)", encoding.name())
    } else {
        encoding.name().to_string()
    };
    let bad = bad_lines(had_errors, &text);
    (text.into_owned(), name, bad)
}

/// Lines holding U+FFFD after a lossy decode: bytes that were not valid in the encoding.
fn bad_lines(had_errors: bool, text: &str) -> Vec<usize> {
    if !had_errors {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains('\u{FFFD}'))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Picks the delimiter that appears most often (outside quotes) in the header line.
fn sniff_delimiter(spec: &ListSpec, text: &str) -> u8 {
    match spec.delimiter.as_str() {
        "," => return b',',
        ";" => return b';',
        "tab" | "\t" => return b'\t',
        "|" => return b'|',
        _ => {}
    }
    let header = text.lines().next().unwrap_or("");
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut in_quotes = false;
    for b in header.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && let Some(i) = candidates.iter().position(|c| *c == b) {
            counts[i] += 1;
        }
    }
    let best = (0..4).max_by_key(|&i| (counts[i], 4 - i)).unwrap_or(0);
    candidates[best]
}

fn read_csv(spec: &ListSpec, bytes: &[u8]) -> Result<RawList> {
    let (text, encoding, bad) = decode(spec, bytes);
    let delimiter = sniff_delimiter(spec, &text);
    let mut list = empty_list(spec, &encoding);
    list.delimiter = Some(char::from(delimiter));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| Error::Unreadable {
        file: spec.file.clone(),
        reason: format!("its header line could not be read ({e})"),
        reason_es: format!("no se pudo leer su primera línea, la de los encabezados ({e})"),
    })?;
    list.headers = headers.iter().map(recuento_text::nfc_trim).collect();
    if list.headers.iter().all(String::is_empty) {
        return Err(Error::Unreadable {
            file: spec.file.clone(),
            reason: "the first line (the header) is empty".into(),
            reason_es: "la primera línea (la de los encabezados) está vacía".into(),
        });
    }
    let width = list.headers.len();
    let mut record = csv::StringRecord::new();
    let mut lines = Lines::new(text.as_bytes());
    loop {
        let line = lines.line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| lines.line_at(p.byte()));
                list.rows_read += 1;
                if record.iter().all(|v| v.trim().is_empty()) {
                    list.problems.push(Problem {
                        line,
                        column: String::new(),
                        value: String::new(),
                        message: "the row is empty: there is nothing to import".into(),
                        message_es: "la fila está vacía: no hay nada que importar".into(),
                        imported: false,
                    });
                    continue;
                }
                let mut values: Vec<String> = record.iter().map(recuento_text::nfc_trim).collect();
                if values.len() < width {
                    list.problems.push(Problem {
                        line,
                        column: String::new(),
                        value: String::new(),
                        message: format!(
                            "the row has {} values but the header has {width} columns; the missing values are left empty",
                            values.len()
                        ),
                        message_es: format!(
                            "la fila tiene {} valores pero el encabezado tiene {width} columnas; los valores que faltan quedan vacíos",
                            values.len()
                        ),
                        imported: true,
                    });
                    values.resize(width, String::new());
                } else if values.len() > width {
                    list.first_wider_line.get_or_insert(line);
                    let extra = values.split_off(width);
                    list.problems.push(Problem {
                        line,
                        column: String::new(),
                        value: short(&extra.join(" | ")),
                        message: format!(
                            "the row has {} values but the header has {width} columns; the extra values (shown here) were not imported — a delimiter inside an unquoted value is the usual cause",
                            width + extra.len()
                        ),
                        message_es: format!(
                            "la fila tiene {} valores pero el encabezado tiene {width} columnas; los valores de más (mostrados aquí) no se importaron; la causa habitual es un separador dentro de un valor sin comillas",
                            width + extra.len()
                        ),
                        imported: true,
                    });
                }
                if bad.iter().any(|&b| {
                    b >= line
                        && b < line
                            + 1
                            + values
                                .iter()
                                .map(|v| v.matches('\n').count())
                                .sum::<usize>()
                }) {
                    list.problems.push(Problem {
                        line,
                        column: String::new(),
                        value: String::new(),
                        message: format!(
                            "the row has bytes that are not valid {encoding}; they were replaced by '\u{FFFD}' — check the file's encoding (setting `encoding` in recuento.toml)"
                        ),
                        message_es: format!(
                            "la fila tiene bytes que no son {encoding} válido; se reemplazaron por '\u{FFFD}': revise la codificación del archivo (ajuste `encoding` en recuento.toml)"
                        ),
                        imported: true,
                    });
                }
                list.rows.push((line, Row::new(values)));
            }
            Err(e) => {
                // The csv crate only fails on I/O and UTF-8 here; text was decoded already,
                // so report and go on.
                list.rows_read += 1;
                list.problems.push(Problem {
                    line,
                    column: String::new(),
                    value: String::new(),
                    message: format!("the row could not be read ({e}) and was not imported"),
                    message_es: format!("no se pudo leer la fila ({e}) y no se importó"),
                    imported: false,
                });
            }
        }
    }
    Ok(list)
}

/// The line of the file on which a record starts, from the byte offset the csv crate gives.
/// Its own line numbers are wrong in the files documentation teams have most: after a blank
/// line the next record gets the blank's line, and with Windows line endings (`\r\n`, as
/// Excel writes CSV) every record gets the line before its own (rust-csv issues 208 and 395).
/// Its byte offsets point at the end of the line before (the blank lines, the `\n` of `\r\n`)
/// but never past the record, so the record starts at the first byte after them that is not a
/// line ending. Offsets only grow, so each byte is counted once.
pub struct Lines<'a> {
    text: &'a [u8],
    /// A byte offset already counted, and the line it is on (1-based).
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    /// Counts lines in `text`, the whole file the csv reader reads.
    pub fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The line (from 1) of the record the csv crate places at `byte`. Offsets must come in
    /// the order the reader gives them.
    pub fn line_at(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.at {
            self.line += self.text[self.at..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.at = start;
        }
        self.line
    }
}

/// Days from 1899-12-30 (Excel's day 0 in the 1900 date system) to a civil date.
fn excel_serial_to_iso(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // 1899-12-30 is day -25_569 relative to 1970-01-01.
    let days = serial.floor() as i64 - 25_569;
    Some(civil_from_days(days))
}

fn civil_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn read_excel(spec: &ListSpec, bytes: &[u8]) -> Result<RawList> {
    use calamine::{Data, Reader};
    let unreadable = |reason: String, reason_es: String| Error::Unreadable {
        file: spec.file.clone(),
        reason,
        reason_es,
    };
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| {
        unreadable(
            format!("it is not a workbook Excel or LibreOffice can open ({e})"),
            format!("no es un libro que Excel o LibreOffice puedan abrir ({e})"),
        )
    })?;
    let sheet = match &spec.sheet {
        Some(s) => s.clone(),
        None => workbook.sheet_names().first().cloned().ok_or_else(|| {
            unreadable(
                "the workbook has no worksheets".into(),
                "el libro no tiene hojas".into(),
            )
        })?,
    };
    let range = workbook.worksheet_range(&sheet).map_err(|e| {
        let sheets = workbook.sheet_names().join(", ");
        unreadable(
            format!(
                "worksheet '{sheet}' could not be read ({e}); worksheets in the file: {sheets}"
            ),
            format!("no se pudo leer la hoja '{sheet}' ({e}); hojas del archivo: {sheets}"),
        )
    })?;
    let mut list = empty_list(spec, "xlsx");
    list.sheets = workbook.sheet_names();
    let start_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        let sheets = list.sheets.join(", ");
        let (other, otra) = if list.sheets.len() > 1 {
            (
                format!(
                    "; worksheets in the file: {sheets} (choose one with the setting `sheet` in recuento.toml, or --sheet)"
                ),
                format!(
                    "; hojas del archivo: {sheets} (elija una con el ajuste `sheet` de recuento.toml, o con --sheet)"
                ),
            )
        } else {
            Default::default()
        };
        return Err(unreadable(
            format!("worksheet '{sheet}' is empty{other}"),
            format!("la hoja '{sheet}' está vacía{otra}"),
        ));
    };
    list.headers = header
        .iter()
        .map(|c| recuento_text::nfc_trim(&c.to_string()))
        .collect();
    for (i, row) in rows.enumerate() {
        // Excel row numbers are 1-based; the header is the first row of the used range.
        let line = start_row + i + 2;
        list.rows_read += 1;
        let mut values = Vec::with_capacity(row.len());
        for (c, cell) in row.iter().enumerate() {
            let v = match cell {
                Data::Empty => String::new(),
                Data::String(s) => recuento_text::nfc_trim(s),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::Float(f) => f.to_string(),
                Data::Int(n) => n.to_string(),
                Data::Bool(b) => b.to_string(),
                Data::DateTime(dt) => {
                    excel_serial_to_iso(dt.as_f64()).unwrap_or_else(|| dt.as_f64().to_string())
                }
                Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                Data::Error(e) => {
                    list.problems.push(Problem {
                        line,
                        column: list.headers.get(c).cloned().unwrap_or_default(),
                        value: format!("{e:?}"),
                        message:
                            "the cell holds a spreadsheet error instead of a value; left empty"
                                .into(),
                        message_es: "la celda contiene un error de hoja de cálculo en lugar de un valor; queda vacía".into(),
                        imported: true,
                    });
                    String::new()
                }
            };
            values.push(v);
        }
        if values.iter().all(String::is_empty) {
            list.problems.push(Problem {
                line,
                column: String::new(),
                value: String::new(),
                message: "the row is empty: there is nothing to import".into(),
                message_es: "la fila está vacía: no hay nada que importar".into(),
                imported: false,
            });
            continue;
        }
        values.resize(list.headers.len(), String::new());
        list.rows.push((line, Row::new(values)));
    }
    Ok(list)
}

fn read_parquet_bytes(spec: &ListSpec, bytes: &[u8]) -> Result<RawList> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let unreadable = |reason: String, reason_es: String| Error::Unreadable {
        file: spec.file.clone(),
        reason,
        reason_es,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes.to_vec()))
        .map_err(|e| {
            unreadable(
                format!("it is not a Parquet file ({e})"),
                format!("no es un archivo Parquet ({e})"),
            )
        })?;
    let mut list = empty_list(spec, "parquet");
    list.headers = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let reader = builder.build().map_err(|e| {
        unreadable(
            format!("its Parquet data could not be read ({e})"),
            format!("no se pudieron leer sus datos Parquet ({e})"),
        )
    })?;
    let mut line = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| {
            unreadable(
                format!("its Parquet data could not be read ({e})"),
                format!("no se pudieron leer sus datos Parquet ({e})"),
            )
        })?;
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| {
                unreadable(
                    format!("a column could not be read as text ({e})"),
                    format!("una columna no se pudo leer como texto ({e})"),
                )
            })?;
        for r in 0..batch.num_rows() {
            line += 1;
            list.rows_read += 1;
            let values: Vec<String> = columns
                .iter()
                .map(|c| {
                    let s = c.as_string::<i32>();
                    if s.is_null(r) {
                        String::new()
                    } else {
                        recuento_text::nfc_trim(s.value(r))
                    }
                })
                .collect();
            list.rows.push((line, Row::new(values)));
        }
    }
    Ok(list)
}

/// Words that open a note, a source or a total written under a table, compared without case
/// or accents: `Fuente: …`, `Nota: …`, `Total: 348`. Some are also surnames (Fuentes), so
/// they count only before a colon or alone.
const NOTE_WORDS: [&str; 12] = [
    "fuente",
    "fuentes",
    "source",
    "sources",
    "nota",
    "notas",
    "note",
    "notes",
    "total",
    "totales",
    "total general",
    "suma",
];

/// Openings that only a note has, with anything after them: `Elaborado por …`, `Fecha de
/// corte: …`.
const NOTE_OPENINGS: [&str; 6] = [
    "elaborado ",
    "elaborada ",
    "elaboracion ",
    "actualizado ",
    "actualizada ",
    "fecha de corte",
];

/// Whether a value alone in its row reads as a note under the table rather than a record: one
/// of [`NOTE_WORDS`] alone or before a colon, `Total` and a number, one of [`NOTE_OPENINGS`],
/// or a footnote's `*`.
fn looks_like_a_note(value: &str) -> bool {
    let raw = value.trim();
    let v = recuento_text::fold(raw);
    let before_colon = raw
        .split_once(':')
        .map(|(head, _)| recuento_text::fold(head));
    let total_and_number = ["total ", "totales ", "suma "].iter().any(|w| {
        v.strip_prefix(w)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == ' '))
    });
    raw.starts_with('*')
        || raw.starts_with("(*)")
        || NOTE_WORDS.contains(&v.as_str())
        || before_colon.is_some_and(|head| NOTE_WORDS.contains(&head.as_str()))
        || total_and_number
        || NOTE_OPENINGS.iter().any(|w| v.starts_with(w))
}

/// Sets aside the rows that hold a single value reading as a note, a source or a total
/// (`Fuente: elaboración propia`, `Total: 348`), or such a value followed by numbers only
/// (`Total,,,348`), as spreadsheets carry under their tables:
/// imported, each would be a record, and a person counted on the list. Each is reported with
/// its line and not imported; a record that only happens to look like one can be mended in the
/// file and imported again. Lists of one column are left alone.
fn set_aside_notes(list: &mut RawList) {
    if list.headers.len() < 2 {
        return;
    }
    let headers = &list.headers;
    let problems = &mut list.problems;
    list.rows.retain(|(line, row)| {
        let mut filled = row.iter().enumerate().filter(|(_, v)| !v.trim().is_empty());
        let Some((column, value)) = filled.next() else {
            return true;
        };
        // A total may carry its numbers in the columns after it (`Total,,,348`).
        let numbers_after = filled.all(|(_, v)| {
            v.trim()
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '%'))
        });
        if !(numbers_after && looks_like_a_note(value)) {
            return true;
        }
        problems.push(Problem {
            line: *line,
            column: headers.get(column).cloned().unwrap_or_default(),
            value: short(value),
            message: "this row reads as a note, a source or a total under the table, not a record (it holds only this value, and numbers at most): not imported (if it is a record, fill in its other columns)".into(),
            message_es: "esta fila parece una nota, una fuente o un total bajo la tabla, no un registro (solo tiene este valor, y a lo sumo números): no se importó (si es un registro, complete sus otras columnas)".into(),
            imported: false,
        });
        false
    });
}

/// Finds the column a mapping names: exact header first, then ignoring case and accents.
pub fn find_column(headers: &[String], wanted: &str) -> Option<usize> {
    headers.iter().position(|h| h == wanted).or_else(|| {
        let w = recuento_text::fold(wanted);
        headers.iter().position(|h| recuento_text::fold(h) == w)
    })
}

fn check_mapping(spec: &ListSpec, list: &RawList) -> Result<()> {
    for (field, header) in spec.mapping().map_err(|e| Error::Plan(e.to_string()))? {
        if find_column(&list.headers, &header).is_none() {
            let columns = list
                .headers
                .iter()
                .map(|h| format!("\"{h}\""))
                .collect::<Vec<_>>()
                .join(", ");
            // A title or notes above the column names: the first line is taken for them, and
            // the column sought is a value a few rows down, or the rows below are wider.
            let wanted = recuento_text::fold(&header);
            let below = list
                .rows
                .iter()
                .take(20)
                .find(|(_, row)| row.iter().any(|v| recuento_text::fold(v) == wanted))
                .map(|(line, _)| *line)
                .or(list.first_wider_line);
            let (title, titulo) = below
                .map(|line| {
                    (
                        format!(" The column names seem to be on line {line}: if there is a title or notes above them, remove those lines (the first line must hold the column names)."),
                        format!(" Los nombres de las columnas parecen estar en la línea {line}: si hay un título o unas notas encima, quite esas líneas (la primera línea debe tener los nombres de las columnas)."),
                    )
                })
                .unwrap_or_default();
            return Err(Error::Plan(format!(
                "list '{name}' ({file}): recuento.toml maps {key} to the column \"{header}\", but the file has no such column. Its columns are: {columns}.{title}\n\
                 En español: lista '{name}' ({file}): recuento.toml asigna {key} a la columna \"{header}\", pero el archivo no tiene esa columna. Sus columnas son: {columns}.{titulo}",
                name = spec.name,
                file = spec.file,
                key = field.key(),
            )));
        }
    }
    Ok(())
}

/// Flags values that the standardisation cannot read (dates, ages, IDs, sex). The row is kept;
/// the unreadable value is treated as missing for linkage and shown in the import report.
fn flag_values(spec: &ListSpec, list: &mut RawList) {
    let Ok(mapping) = spec.mapping() else {
        return;
    };
    let order: DateOrder = spec.date_order;
    let mut cols: Vec<(Field, usize, String)> = mapping
        .into_iter()
        .filter_map(|(f, h)| {
            find_column(&list.headers, &h).map(|i| (f, i, list.headers[i].clone()))
        })
        .collect();
    // Report in the order a person reads the row: left to right.
    cols.sort_by_key(|c| c.1);
    let mut problems = Vec::new();
    for (line, values) in &list.rows {
        for (field, i, header) in &cols {
            let v = &values[*i];
            if v.is_empty() {
                continue;
            }
            let message: Option<(String, String)> = match field {
                Field::BirthDate | Field::EventDate => match dates::parse_date(v, order) {
                    Err(p) => Some((
                        format!("the date {p}; it is treated as missing"),
                        format!("la fecha {}; se trata como desconocida", p.es()),
                    )),
                    Ok(Some(d)) if d.swapped => Some((
                        format!("day and month seem swapped; read as {}", d.date),
                        format!("el día y el mes parecen invertidos; se leyó como {}", d.date),
                    )),
                    _ => None,
                },
                Field::Age => parse_age(v).is_none().then(|| {
                    (
                        "is not an age in years between 0 and 120; it is treated as missing".to_string(),
                        "no es una edad en años entre 0 y 120; se trata como desconocida".to_string(),
                    )
                }),
                Field::Sex => normalise_sex(v).is_none().then(|| {
                    (
                        "is not a sex recuento knows (M, F, H, hombre, mujer, masculino, femenino); it is treated as missing".to_string(),
                        "no es un sexo que recuento conozca (M, F, H, hombre, mujer, masculino, femenino); se trata como desconocido".to_string(),
                    )
                }),
                Field::NationalId => match ids::normalise_id(v) {
                    Some(ids::NationalId::Dui { valid: false, .. }) => Some((
                        "the DUI's check digit does not agree: probably a typo; kept, and compared allowing one digit of difference".to_string(),
                        "el dígito verificador del DUI no coincide: probablemente un error de digitación; se conserva y se compara admitiendo un dígito de diferencia".to_string(),
                    )),
                    _ => None,
                },
                _ => None,
            };
            if let Some((message, message_es)) = message {
                problems.push(Problem {
                    line: *line,
                    column: header.clone(),
                    value: short(v),
                    message,
                    message_es,
                    imported: true,
                });
            }
        }
    }
    list.problems.extend(problems);
    list.problems.sort_by_key(|p| p.line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(file: &str, columns: &[(&str, &str)]) -> ListSpec {
        ListSpec {
            columns: columns
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..ListSpec::plain("l", file)
        }
    }

    fn read(bytes: &[u8], columns: &[(&str, &str)]) -> Result<RawList> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.csv"), bytes).unwrap();
        read_list(&spec("f.csv", columns), dir.path())
    }

    #[test]
    fn windows_1252_is_detected() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252
            .encode("Nombre,Fecha\nJosé Peña,3/4/2023\nMaría Núñez,5/6/2022\n");
        let l = read(&bytes, &[("full_name", "Nombre")]).unwrap();
        assert!(l.encoding.contains("windows-1252"), "{}", l.encoding);
        assert_eq!(&l.rows[0].1[0], "José Peña");
        assert!(l.problems.is_empty());
    }

    #[test]
    fn bom_and_semicolons() {
        let l = read(
            "\u{FEFF}NOMBRE;EDAD\nANA PEÑA;34\n".as_bytes(),
            &[("full_name", "NOMBRE"), ("age", "EDAD")],
        )
        .unwrap();
        assert_eq!(l.encoding, "UTF-8 with BOM");
        assert_eq!(l.delimiter, Some(';'));
        assert_eq!(l.headers, vec!["NOMBRE", "EDAD"]);
        assert_eq!(l.rows[0], (2, Row::new(["ANA PEÑA", "34"])));
    }

    #[test]
    fn tabs_are_sniffed() {
        let l = read(b"id\tnombre\n1\tAna\n", &[]).unwrap();
        assert_eq!(l.delimiter, Some('\t'));
    }

    #[test]
    fn ragged_rows_are_kept_and_reported() {
        let l = read(b"a,b,c\n1,2\n1,2,3,4\n1,2,3\n", &[]).unwrap();
        assert_eq!(l.rows_read, 3);
        assert_eq!(l.rows.len(), 3);
        assert_eq!(l.problems.len(), 2);
        assert_eq!(l.problems[0].line, 2);
        assert!(l.problems[0].message.contains("2 values"));
        assert_eq!(l.problems[1].line, 3);
        assert_eq!(l.problems[1].value, "4");
    }

    #[test]
    fn embedded_newlines_keep_line_numbers() {
        let l = read(b"nombre,obs\nAna,\"linea 1\nlinea 2\"\nLuis,x\n", &[]).unwrap();
        assert_eq!(l.rows.len(), 2);
        assert_eq!(l.rows[0].0, 2);
        assert_eq!(l.rows[1].0, 4);
        assert_eq!(&l.rows[0].1[1], "linea 1\nlinea 2");
    }

    /// Line numbers are the file's own after blank lines and with Windows line endings, where
    /// the csv crate's are one too low.
    #[test]
    fn lines_are_right_after_blank_lines_and_with_windows_line_endings() {
        let lines = |bytes: &[u8]| {
            let l = read(bytes, &[]).unwrap();
            let mut lines: Vec<usize> = l.rows.iter().map(|(line, _)| *line).collect();
            lines.extend(l.problems.iter().map(|p| p.line));
            lines.sort_unstable();
            lines.dedup();
            lines
        };
        assert_eq!(lines(b"a,b\n1,2\n\n3,4\n\n\n5,6\n"), [2, 4, 7]);
        assert_eq!(lines(b"a,b\r\n1,2\r\n3,4\r\n"), [2, 3]);
        assert_eq!(
            lines(b"a,b\r\n1,2\r\n\r\n\"x\r\ny\",4\r\n5,6\r\n"),
            [2, 4, 6]
        );
        assert_eq!(lines(b"\n\na,b\n1,2\n"), [4]);
        // A row of empty values is on its own line too.
        assert_eq!(lines(b"a,b\r\n,\r\n1,2\r\n"), [2, 3]);
    }

    /// A source, a note or a total under the table is set aside and reported, not imported as a
    /// record; a record with one value that is not a note stays.
    #[test]
    fn notes_under_the_table_are_set_aside_and_reported() {
        let l = read(
            "nombre,fecha\r\nAna López,2023-01-05\r\nLuis Pérez,\r\n\r\nFuente: elaboración propia,\r\n,TOTAL 2\r\n(*) Datos preliminares,\r\nNotable Ruiz,\r\nTotal,3\r\nFuentes García María,\r\nElaborado por el equipo de documentación,\r\n"
                .as_bytes(),
            &[],
        )
        .unwrap();
        let kept: Vec<&str> = l.rows.iter().map(|(_, r)| &r[0]).collect();
        // Fuentes is a surname too: a record of a name alone stays.
        assert_eq!(
            kept,
            [
                "Ana López",
                "Luis Pérez",
                "Notable Ruiz",
                "Fuentes García María"
            ]
        );
        let set_aside: Vec<(usize, &str, &str)> = l
            .problems
            .iter()
            .filter(|p| !p.imported)
            .map(|p| (p.line, p.column.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            set_aside,
            [
                (5, "nombre", "Fuente: elaboración propia"),
                (6, "fecha", "TOTAL 2"),
                (7, "nombre", "(*) Datos preliminares"),
                (9, "nombre", "Total"),
                (11, "nombre", "Elaborado por el equipo de documentación")
            ]
        );
        assert_eq!(l.rows_not_imported(), 5);
    }

    #[test]
    fn bad_bytes_in_declared_utf8_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.csv"), b"nombre\nJos\xe9\nAna\n").unwrap();
        let mut s = spec("f.csv", &[]);
        s.encoding = "utf-8".into();
        let l = read_list(&s, dir.path()).unwrap();
        assert_eq!(l.rows.len(), 2);
        assert_eq!(l.problems.len(), 1);
        assert_eq!(l.problems[0].line, 2);
        assert!(l.problems[0].message.contains("not valid UTF-8"));
    }

    #[test]
    fn empty_file_and_header_only() {
        let err = read(b"", &[]).unwrap_err().to_string();
        assert!(err.contains("f.csv") && err.contains("empty"), "{err}");
        let l = read(b"nombre,edad\n", &[]).unwrap();
        assert_eq!((l.rows_read, l.rows.len()), (0, 0));
    }

    #[test]
    fn empty_rows_are_reported_not_imported() {
        let l = read(b"a,b\n1,2\n,\n3,4\n", &[]).unwrap();
        assert_eq!(l.rows_read, 3);
        assert_eq!(l.rows.len(), 2);
        assert_eq!(l.rows_not_imported(), 1);
        assert!(!l.problems[0].imported);
    }

    #[test]
    fn missing_column_names_the_columns_that_exist() {
        let err = read(b"Nombre,Edad\nAna,3\n", &[("full_name", "Nombre completo")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"Nombre completo\"") && err.contains("\"Edad\""),
            "{err}"
        );
        // A title above the column names is said to be one.
        let err = read(
            "Listado de víctimas, 2024\n\nNombre,Edad\nAna,3\n".as_bytes(),
            &[("full_name", "Nombre")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("The column names seem to be on line 3: if there is a title or notes above them, remove those lines")
                && err.contains("parecen estar en la línea 3"),
            "{err}"
        );
        // Case and accents are forgiven.
        assert!(
            read(
                b"NOMBRE COMPLETO\nAna\n",
                &[("full_name", "Nombre completo")]
            )
            .is_ok()
        );
    }

    #[test]
    fn unreadable_values_are_flagged_with_line_and_column() {
        let l = read(
            "Nombre,Fecha,DUI,Edad\nAna,31/02/2023,00016297-4,treinta\nLuis,3 de abril de 2023,00016297-5,40\n".as_bytes(),
            &[("full_name", "Nombre"), ("event_date", "Fecha"), ("national_id", "DUI"), ("age", "Edad")],
        )
        .unwrap();
        let cols: Vec<(usize, &str)> = l
            .problems
            .iter()
            .map(|p| (p.line, p.column.as_str()))
            .collect();
        assert_eq!(cols, vec![(2, "Fecha"), (2, "DUI"), (2, "Edad")]);
        assert_eq!(l.rows.len(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// No bytes make the reader panic, whatever the format; every row read is imported or
        /// reported.
        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            text in "[a-zA-Z0-9,;\t\"\n\r é]{0,300}",
            ext in proptest::sample::select(vec!["csv", "xlsx", "parquet", "ods"]),
        ) {
            let dir = tempfile::tempdir().unwrap();
            for (i, content) in [bytes.clone(), text.into_bytes()].into_iter().enumerate() {
                let file = format!("f{i}.{ext}");
                std::fs::write(dir.path().join(&file), &content).unwrap();
                if let Ok(l) = read_list(&spec(&file, &[("full_name", "a"), ("event_date", "b")]), dir.path()) {
                    let not_imported = l.problems.iter().filter(|p| !p.imported).count();
                    proptest::prop_assert_eq!(l.rows_read, l.rows.len() + not_imported);
                }
                let _ = read_list(&spec(&file, &[]), dir.path());
            }
        }
    }

    #[test]
    fn excel_serials() {
        assert_eq!(excel_serial_to_iso(45_019.0).unwrap(), "2023-04-03");
        assert_eq!(excel_serial_to_iso(1.0).unwrap(), "1899-12-31");
        assert!(excel_serial_to_iso(-5.0).is_none());
    }

    #[test]
    fn garbage_workbook_is_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.xlsx"), b"not a zip").unwrap();
        let err = read_list(&spec("f.xlsx", &[]), dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.xlsx") && err.contains("workbook"), "{err}");
    }
}
