//! Values written to CSV files that people open in a spreadsheet. A value from a list that
//! starts with `=`, `+`, `-` or `@` (or a tab or carriage return) is read by Excel and
//! LibreOffice as a formula when the CSV is opened, which can run commands or send data away
//! (CSV injection; OWASP). A hostile record on a list must not reach the documentation team's
//! machine that way, so such values are written with a `'` in front, which spreadsheets show
//! as text, and read back without it.

use std::borrow::Cow;

/// Whether a value would be taken for a formula, or is a quoted one (so that writing and
/// reading back give the value itself, also for a value that starts with `'=`).
fn needs_quote(value: &str) -> bool {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => true,
        Some(b'\'') => needs_quote(&value[1..]),
        _ => false,
    }
}

/// The value as written to a CSV file meant for spreadsheets: with a `'` in front when a
/// spreadsheet would take it for a formula.
#[must_use]
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    if needs_quote(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The value [`safe_cell`] wrote: without the `'` it added.
#[must_use]
pub fn from_safe_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_every_value_reads_back() {
        assert_eq!(
            safe_cell("=HYPERLINK(\"http://x\",\"ver\")"),
            "'=HYPERLINK(\"http://x\",\"ver\")"
        );
        assert_eq!(safe_cell("+503 7777"), "'+503 7777");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("José"), "José");
        assert_eq!(safe_cell("'texto"), "'texto");
        for v in [
            "=1+1", "-5", "'=1", "''-x", "'texto", "José", "", "'", "\tx", "a=b",
        ] {
            assert_eq!(from_safe_cell(&safe_cell(v)), v, "{v}");
        }
    }
}
