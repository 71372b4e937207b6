//! One `records` table from every list: raw mapped values in, standardised values out.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::MemTable;
use datafusion::prelude::ParquetReadOptions;
use recuento_model::{DateOrder, Field, ListSpec};
use serde::Serialize;

use crate::ingest::{RawList, find_column};
use crate::{Engine, Error, Result};

/// Counts after standardisation.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsSummary {
    /// Records in the `records` table.
    pub records: usize,
    /// Records per list, in configuration order.
    pub per_list: Vec<(String, usize)>,
}

/// Columns of the standardised `records` table usable in blocking rules.
pub const BLOCKING_COLUMNS: &[&str] = &[
    "national_id",
    "given1_key",
    "surname1_key",
    "surname2_key",
    "surname1_phonetic",
    "birth_date",
    "birth_year",
    "event_date",
    "event_month",
    "facility",
    "place",
    "sex",
];

fn raw_column(f: Field) -> String {
    format!("raw_{}", f.key())
}

/// Builds the raw table: one row per imported record, one text column per canonical field.
fn raw_batch(lists: &[(ListSpec, RawList)]) -> Result<RecordBatch> {
    let fields = Field::ALL;
    let mut schema_fields = vec![
        ArrowField::new("rid", DataType::Int64, false),
        ArrowField::new("list", DataType::Utf8, false),
        ArrowField::new("record_id", DataType::Utf8, false),
        ArrowField::new("line", DataType::Int64, false),
        ArrowField::new("date_order", DataType::Utf8, false),
    ];
    schema_fields.extend(
        fields
            .iter()
            .filter(|f| **f != Field::RecordId)
            .map(|f| ArrowField::new(raw_column(*f), DataType::Utf8, true)),
    );
    let schema = Arc::new(Schema::new(schema_fields));
    let mut rid = Int64Builder::new();
    let mut list_b = StringBuilder::new();
    let mut id_b = StringBuilder::new();
    let mut line_b = Int64Builder::new();
    let mut order_b = StringBuilder::new();
    let mut field_b: Vec<StringBuilder> = fields
        .iter()
        .filter(|f| **f != Field::RecordId)
        .map(|_| StringBuilder::new())
        .collect();
    let mut next = 0i64;
    for (spec, raw) in lists {
        let mapping = spec.mapping().map_err(|e| Error::Plan(e.to_string()))?;
        let col_of = |f: Field| {
            mapping
                .iter()
                .find(|(m, _)| *m == f)
                .and_then(|(_, h)| find_column(&raw.headers, h))
        };
        let id_col = col_of(Field::RecordId);
        let cols: Vec<Option<usize>> = fields
            .iter()
            .filter(|f| **f != Field::RecordId)
            .map(|f| col_of(*f))
            .collect();
        let order = match spec.date_order {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
        };
        for (data_row, (line, values)) in raw.rows.iter().enumerate() {
            rid.append_value(next);
            next += 1;
            list_b.append_value(&spec.name);
            // The list's own identifier, or the 1-based data row number when it has none.
            match id_col.map(|c| &values[c]) {
                Some(id) if !id.is_empty() => id_b.append_value(id),
                _ => id_b.append_value((data_row + 1).to_string()),
            }
            line_b.append_value(*line as i64);
            order_b.append_value(order);
            for (b, c) in field_b.iter_mut().zip(&cols) {
                match c.map(|c| &values[c]) {
                    Some(v) if !v.is_empty() => b.append_value(v),
                    _ => b.append_null(),
                }
            }
        }
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(rid.finish()),
        Arc::new(list_b.finish()),
        Arc::new(id_b.finish()),
        Arc::new(line_b.finish()),
        Arc::new(order_b.finish()),
    ];
    columns.extend(field_b.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Standardisation as SQL over recuento's functions. Empty results are NULL so that blocking
/// never pairs records on a missing value.
const STANDARDISE_SQL: &str = "
WITH s AS (
  SELECT rid, list, record_id, line,
    std_name('given',    raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_full_name, raw_sex) AS given,
    std_name('surname1', raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_full_name, raw_sex) AS surname1,
    std_name('surname2', raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_full_name, raw_sex) AS surname2,
    std_name('married',  raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_full_name, raw_sex) AS married,
    coalesce(fold_text(raw_alias),
             std_name('alias', raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_full_name, raw_sex)) AS alias,
    std_sex(raw_sex) AS sex,
    std_date(raw_birth_date, date_order) AS birth_date_written,
    std_date(raw_event_date, date_order) AS event_date,
    raw_age AS age,
    std_id(raw_national_id) AS national_id,
    facility_key(raw_facility) AS facility,
    fold_text(raw_place) AS place,
    raw_full_name, raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_alias, raw_sex,
    raw_birth_date, raw_age, raw_national_id, raw_event_date, raw_place, raw_facility
  FROM raw
)
SELECT rid, list, record_id, line, given, surname1, surname2, married, alias, sex,
  coalesce(birth_date_written, birth_from_age(age, event_date)) AS birth_date,
  event_date, national_id, facility, place,
  given1_key(given) AS given1_key,
  surname1 AS surname1_key,
  surname2 AS surname2_key,
  phonetic_key(surname1) AS surname1_phonetic,
  substr(coalesce(birth_date_written, birth_from_age(age, event_date)), 1, 4) AS birth_year,
  CASE WHEN length(event_date) >= 7 THEN substr(event_date, 1, 7) END AS event_month,
  -- The mapped values exactly as read, for reviewers and audits.
  raw_full_name, raw_given_names, raw_surname1, raw_surname2, raw_surnames, raw_alias, raw_sex,
  raw_birth_date, raw_age, raw_national_id, raw_event_date, raw_place, raw_facility
FROM s
ORDER BY rid
";

impl Engine {
    /// Standardises the imported lists into `out_dir/records.parquet` and registers it as the
    /// `records` table for [`Engine::link`].
    ///
    /// # Errors
    /// A mapping error, or a failure writing the Parquet file.
    pub async fn load_records(
        &self,
        lists: &[(ListSpec, RawList)],
        out_dir: &Path,
    ) -> Result<RecordsSummary> {
        let batch = raw_batch(lists)?;
        let records = batch.num_rows();
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        let _ = self.ctx.deregister_table("raw")?;
        self.ctx.register_table("raw", Arc::new(table))?;
        let df = self.ctx.sql(STANDARDISE_SQL).await?;
        let path = out_dir.join("records.parquet");
        std::fs::create_dir_all(out_dir).map_err(|source| Error::Io {
            path: out_dir.display().to_string(),
            source,
        })?;
        df.write_parquet(
            &path.to_string_lossy(),
            DataFrameWriteOptions::new().with_single_file_output(true),
            None,
        )
        .await?;
        let _ = self.ctx.deregister_table("raw")?;
        let _ = self.ctx.deregister_table("records")?;
        self.set_records_cache(None);
        self.ctx
            .register_parquet(
                "records",
                &*path.to_string_lossy(),
                ParquetReadOptions::default(),
            )
            .await?;
        Ok(RecordsSummary {
            records,
            per_list: lists
                .iter()
                .map(|(s, r)| (s.name.clone(), r.rows.len()))
                .collect(),
        })
    }
}

impl From<datafusion::arrow::error::ArrowError> for Error {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        Error::Internal(e.into())
    }
}

impl From<datafusion::parquet::errors::ParquetError> for Error {
    fn from(e: datafusion::parquet::errors::ParquetError) -> Self {
        Error::Internal(e.into())
    }
}
