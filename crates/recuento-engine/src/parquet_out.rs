//! A Parquet writer that encodes each row group's columns on the runtime's worker threads.
//!
//! Parquet's `ArrowWriter` encodes and compresses every column on the thread that calls
//! `write`. For the tens of millions of scored pairs of a large list that one thread was the
//! slowest part of linking (at 1,000,000 records, 20 s of scoring on one core while the other
//! waited). Here batches are gathered into a row group, and the row group's columns are then
//! encoded as separate tasks (parquet's `ArrowColumnWriter`, made for this) while the caller
//! goes on producing the next row group. The file is the same kind of file: one schema, row
//! groups in the order written, rows in the order given.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowRowGroupWriterFactory, ArrowWriterOptions, compute_leaves,
};
use datafusion::parquet::file::writer::SerializedFileWriter;
use tokio::task::JoinHandle;

use crate::{Error, Result};

/// Rows per row group. Small enough that the two row groups held at once (one being encoded,
/// one being gathered) stay a few tens of megabytes of pairs; large enough that readers see
/// few row groups (about 240 for 60 million pairs).
const ROW_GROUP_ROWS: usize = 256 * 1024;

/// Writes record batches of one flat schema to a Parquet file, encoding columns in parallel.
pub(crate) struct ParallelWriter {
    path: String,
    schema: SchemaRef,
    writer: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    /// Batches of the row group being gathered, and their rows.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    /// The row group being encoded: one task per column, in schema order.
    encoding: Vec<JoinHandle<Result<ArrowColumnChunk>>>,
}

impl ParallelWriter {
    /// Creates `path` for batches of `schema` (flat: no nested columns), with `options`
    /// (properties, and whether the Arrow schema is stored in the file).
    pub(crate) fn create(
        path: &Path,
        schema: SchemaRef,
        options: ArrowWriterOptions,
    ) -> Result<Self> {
        let shown = path.display().to_string();
        if schema.fields().iter().any(|f| f.data_type().is_nested()) {
            return Err(Error::Plan(format!(
                "internal: {shown} has a nested column; please report"
            )));
        }
        let file = File::create(path).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        let (writer, factory) = ArrowWriter::try_new_with_options(file, schema.clone(), options)?
            .into_serialized_writer()?;
        Ok(ParallelWriter {
            path: shown,
            schema,
            writer,
            factory,
            pending: Vec::new(),
            pending_rows: 0,
            encoding: Vec::new(),
        })
    }

    /// Adds a batch; a full row group is handed to the worker threads to encode.
    pub(crate) async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= ROW_GROUP_ROWS {
            self.start_row_group().await?;
        }
        Ok(())
    }

    /// Writes what is left and the file's footer.
    pub(crate) async fn close(mut self) -> Result<()> {
        self.start_row_group().await?;
        self.finish_row_group().await?;
        self.writer.close()?;
        Ok(())
    }

    /// Hands the gathered batches out as a row group, one task per column, after writing the
    /// previous row group (so at most one is being encoded at a time).
    async fn start_row_group(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.finish_row_group().await?;
        let batches = std::sync::Arc::new(std::mem::take(&mut self.pending));
        self.pending_rows = 0;
        // Every earlier row group is in the file now, so their count numbers this one.
        let index = self.writer.flushed_row_groups().len();
        let writers = self.factory.create_column_writers(index)?;
        if writers.len() != self.schema.fields().len() {
            return Err(Error::Plan(format!(
                "internal: {} columns but {} Parquet column writers for {}; please report",
                self.schema.fields().len(),
                writers.len(),
                self.path
            )));
        }
        self.encoding = writers
            .into_iter()
            .enumerate()
            .map(|(i, mut writer)| {
                let batches = batches.clone();
                let field = self.schema.field(i).clone();
                tokio::spawn(async move {
                    for batch in batches.iter() {
                        for leaf in compute_leaves(&field, batch.column(i))? {
                            writer.write(&leaf)?;
                        }
                    }
                    Ok(writer.close()?)
                })
            })
            .collect();
        Ok(())
    }

    /// Waits for the row group being encoded and appends its columns to the file.
    async fn finish_row_group(&mut self) -> Result<()> {
        if self.encoding.is_empty() {
            return Ok(());
        }
        let mut row_group = self.writer.next_row_group()?;
        for task in std::mem::take(&mut self.encoding) {
            let chunk = task
                .await
                .map_err(crate::task_stopped(&format!("writing {}", self.path)))??;
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_come_back_in_the_order_written_across_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
        ]));
        let options = ArrowWriterOptions::new().with_properties(WriterProperties::default());
        let mut writer = ParallelWriter::create(&path, schema.clone(), options).unwrap();
        // Uneven batches, so that row groups end inside a batch's worth of rows.
        let total: i64 = 2 * ROW_GROUP_ROWS as i64 + 12_345;
        let mut start = 0;
        while start < total {
            let end = (start + 7_001).min(total);
            let n = Int64Array::from_iter_values(start..end);
            let text: StringArray = (start..end)
                .map(|i| (i % 5 != 0).then(|| format!("v{i}")))
                .collect();
            writer
                .write(
                    RecordBatch::try_new(schema.clone(), vec![Arc::new(n), Arc::new(text)])
                        .unwrap(),
                )
                .await
                .unwrap();
            start = end;
        }
        writer.close().await.unwrap();

        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 3);
        let mut expected = 0i64;
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            let n = batch.column(0).as_primitive::<Int64Type>();
            let text = batch.column(1).as_string::<i32>();
            for i in 0..batch.num_rows() {
                assert_eq!(n.value(i), expected);
                if expected % 5 == 0 {
                    assert!(text.is_null(i));
                } else {
                    assert_eq!(text.value(i), format!("v{expected}"));
                }
                expected += 1;
            }
        }
        assert_eq!(expected, total);
    }
}
