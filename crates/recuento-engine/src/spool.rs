//! The temporary file of compared pairs, written while blocking and comparing and read back
//! once the model is trained, to score them.
//!
//! An Arrow IPC stream rather than Parquet: nobody but the scorer reads it, once, in the order
//! written, and Arrow's own format is the batches' memory as it is. Parquet stores each `Int8`
//! level as a 4-byte integer, computes definition levels, and had to be compressed to keep the
//! file small; at 1,000,000 records encoding, compressing and decoding that file took about a
//! tenth of blocking and comparing and of scoring (docs/benchmarks.md). The file holds only
//! what cannot be recomputed cheaply: the two record numbers (`UInt32`) and each comparison's
//! level (`Int8`), about 14 bytes a pair.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::{IpcWriteOptions, StreamWriter};

use crate::{Error, Result};

/// Pairs per batch written: the compared batches of a rule with a filter can be small, and
/// each batch read back is one scoring task.
const SPOOL_BATCH: usize = 8192;

/// Writes batches of compared pairs to a temporary Arrow IPC stream.
pub(crate) struct Spool {
    path: PathBuf,
    writer: StreamWriter<BufWriter<File>>,
    coalescer: BatchCoalescer,
}

impl Spool {
    /// Creates the file at `path` for batches of `schema`.
    pub(crate) fn create(path: &Path, schema: &SchemaRef) -> Result<Spool> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(datafusion::arrow::ipc::CompressionType::LZ4_FRAME))?;
        let writer = StreamWriter::try_new_with_options(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            options,
        )?;
        Ok(Spool {
            path: path.to_path_buf(),
            writer,
            coalescer: BatchCoalescer::new(schema.clone(), SPOOL_BATCH),
        })
    }

    /// Appends a batch.
    pub(crate) fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.coalescer.push_batch(batch)?;
        self.write_completed()
    }

    fn write_completed(&mut self) -> Result<()> {
        while let Some(batch) = self.coalescer.next_completed_batch() {
            self.writer.write(&batch).map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Writes what is left and finishes the file.
    pub(crate) fn close(mut self) -> Result<()> {
        self.coalescer.finish_buffered_batch()?;
        self.write_completed()?;
        self.writer.finish().map_err(|e| self.error(e))
    }

    fn error(&self, e: datafusion::arrow::error::ArrowError) -> Error {
        Error::Io {
            path: self.path.display().to_string(),
            source: std::io::Error::other(e),
        }
    }
}

/// The batches of a spool file, in the order written.
pub(crate) fn read(path: &Path) -> Result<StreamReader<BufReader<File>>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(StreamReader::try_new(
        BufReader::with_capacity(1 << 20, file),
        None,
    )?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, AsArray, Int8Array, UInt32Array};
    use datafusion::arrow::datatypes::{DataType, Field, Int8Type, Schema, UInt32Type};

    use super::*;

    /// Batches of any size come back as the same rows in the same order, in batches of at most
    /// [`SPOOL_BATCH`] rows, nulls kept.
    #[test]
    fn rows_come_back_in_the_order_written() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.arrows");
        let schema = Arc::new(Schema::new(vec![
            Field::new("rid_l", DataType::UInt32, false),
            Field::new("level", DataType::Int8, true),
        ]));
        let mut spool = Spool::create(&path, &schema).expect("create");
        let mut written = 0u32;
        for size in [1, 8191, 3, 20_000, 0, 77] {
            let rids = UInt32Array::from_iter_values(written..written + size);
            let levels: Int8Array = (written..written + size)
                .map(|i| (!i.is_multiple_of(7)).then_some((i % 5) as i8))
                .collect();
            let batch =
                RecordBatch::try_new(schema.clone(), vec![Arc::new(rids), Arc::new(levels)])
                    .expect("batch");
            spool.write(batch).expect("write");
            written += size;
        }
        spool.close().expect("close");
        let mut next = 0u32;
        for batch in read(&path).expect("read") {
            let batch = batch.expect("batch");
            assert!(batch.num_rows() <= SPOOL_BATCH);
            let rids = batch.column(0).as_primitive::<UInt32Type>();
            let levels = batch.column(1).as_primitive::<Int8Type>();
            for i in 0..batch.num_rows() {
                assert_eq!(rids.value(i), next);
                if next.is_multiple_of(7) {
                    assert!(levels.is_null(i));
                } else {
                    assert_eq!(levels.value(i), (next % 5) as i8);
                }
                next += 1;
            }
        }
        assert_eq!(next, written);
    }
}
