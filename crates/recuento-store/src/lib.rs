//! The project store: one SQLite file per project (`recuento.sqlite`), in WAL mode.
//!
//! * `lists`: each configured list and what is known about it.
//! * `snapshots`: every imported file, identified by the BLAKE3 hash of its bytes and kept
//!   byte for byte. Snapshots are immutable: a trigger refuses updates and deletes, and importing
//!   the same bytes again reuses the snapshot.
//! * `problems`: the import report, row by row.
//! * `runs`: every pipeline run with its settings hash, seed and software version.
//! * `audit`: an append-only log where each entry's hash covers the previous entry's hash, so a
//!   removed or edited entry breaks the chain ([`Store::verify_audit`]).
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let store = recuento_store::Store::open(&dir.path().join("recuento.sqlite")).unwrap();
//! store.audit("cli", "import", "ong_legal").unwrap();
//! assert!(store.verify_audit().unwrap());
//! ```
#![deny(missing_docs)]

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed (locked, corrupt, disk full...).
    #[error("project store {path}: {source}")]
    Sqlite {
        /// The store file.
        path: String,
        /// The cause.
        source: rusqlite::Error,
    },
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// A snapshot's metadata.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// List name.
    pub list: &'a str,
    /// File path as configured.
    pub file: &'a str,
    /// BLAKE3 hash of the bytes.
    pub hash: &'a str,
    /// The file's bytes.
    pub bytes: &'a [u8],
    /// How the file was decoded.
    pub encoding: &'a str,
    /// Data rows found.
    pub rows_read: usize,
    /// Rows imported.
    pub rows_imported: usize,
}

/// One import problem: (line, column, value, message, imported).
pub type ProblemRow<'a> = (usize, &'a str, &'a str, &'a str, bool);

/// An open project store.
pub struct Store {
    conn: Connection,
    path: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lists (
  name TEXT PRIMARY KEY, file TEXT NOT NULL, organisation TEXT, collection TEXT, period TEXT);
CREATE TABLE IF NOT EXISTS snapshots (
  hash TEXT PRIMARY KEY, list TEXT NOT NULL, file TEXT NOT NULL, bytes BLOB NOT NULL,
  size INTEGER NOT NULL, encoding TEXT, rows_read INTEGER NOT NULL, rows_imported INTEGER NOT NULL,
  imported_at INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS snapshots_immutable_u BEFORE UPDATE ON snapshots
  BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
CREATE TRIGGER IF NOT EXISTS snapshots_immutable_d BEFORE DELETE ON snapshots
  BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
CREATE TABLE IF NOT EXISTS problems (
  snapshot TEXT NOT NULL REFERENCES snapshots(hash), line INTEGER NOT NULL, col TEXT NOT NULL,
  value TEXT NOT NULL, message TEXT NOT NULL, imported INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS problems_snapshot ON problems(snapshot);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, started_at INTEGER NOT NULL,
  version TEXT NOT NULL, settings_hash TEXT NOT NULL, seed INTEGER NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn entry_hash(prev: &str, at: i64, actor: &str, action: &str, detail: &str) -> String {
    let mut h = blake3::Hasher::new();
    for part in [prev, &at.to_string(), actor, action, detail] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

impl Store {
    /// Opens (and creates if needed) the store at `path`.
    ///
    /// # Errors
    /// The file cannot be opened or is not a recuento store.
    pub fn open(path: &Path) -> Result<Store> {
        let p = path.display().to_string();
        let wrap = |source| Error::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        conn.execute_batch(SCHEMA).map_err(wrap)?;
        Ok(Store { conn, path: p })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Records (or updates) a list's description.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn upsert_list(
        &self,
        name: &str,
        file: &str,
        organisation: &str,
        collection: &str,
        period: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO lists(name, file, organisation, collection, period) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(name) DO UPDATE SET file = ?2, organisation = ?3, collection = ?4, period = ?5",
                params![name, file, organisation, collection, period],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Stores an immutable snapshot with its import problems, in one transaction. Returns
    /// `false` when the same bytes were imported before (the earlier snapshot stands).
    ///
    /// # Errors
    /// SQLite failures.
    pub fn add_snapshot(&mut self, s: &Snapshot<'_>, problems: &[ProblemRow<'_>]) -> Result<bool> {
        let path = self.path.clone();
        let wrap = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT hash FROM snapshots WHERE hash = ?1",
                [s.hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(wrap)?;
        if exists.is_some() {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO snapshots(hash, list, file, bytes, size, encoding, rows_read, rows_imported, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![s.hash, s.list, s.file, s.bytes, s.bytes.len() as i64, s.encoding, s.rows_read as i64, s.rows_imported as i64, now()],
        )
        .map_err(wrap)?;
        {
            let mut stmt = tx
                .prepare("INSERT INTO problems(snapshot, line, col, value, message, imported) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(wrap)?;
            for (line, col, value, message, imported) in problems {
                stmt.execute(params![s.hash, *line as i64, col, value, message, imported])
                    .map_err(wrap)?;
            }
        }
        tx.commit().map_err(wrap)?;
        Ok(true)
    }

    /// The stored bytes of a snapshot.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn snapshot_bytes(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row("SELECT bytes FROM snapshots WHERE hash = ?1", [hash], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())
    }

    /// Number of snapshots stored.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn snapshot_count(&self) -> Result<usize> {
        self.conn
            .query_row("SELECT count(*) FROM snapshots", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(self.err())
    }

    /// Records a run.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn add_run(
        &self,
        kind: &str,
        version: &str,
        settings_hash: &str,
        seed: u64,
        summary: &str,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs(kind, started_at, version, settings_hash, seed, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![kind, now(), version, settings_hash, seed as i64, summary],
            )
            .map_err(self.err())?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Appends an entry to the audit log, chained to the previous entry's hash.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<()> {
        let prev: String = self
            .conn
            .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())?
            .unwrap_or_default();
        let at = now();
        let hash = entry_hash(&prev, at, actor, action, detail);
        self.conn
            .execute(
                "INSERT INTO audit(at, actor, action, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![at, actor, action, detail, prev, hash],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Checks the audit chain: every entry's hash is recomputed and must link to the one before.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn verify_audit(&self) -> Result<bool> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, action, detail, prev_hash, hash FROM audit ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(self.err())?;
        let mut prev = String::new();
        for row in rows {
            let (at, actor, action, detail, prev_hash, hash) = row.map_err(self.err())?;
            if prev_hash != prev || hash != entry_hash(&prev, at, &actor, &action, &detail) {
                return Ok(false);
            }
            prev = hash;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_immutable_and_deduplicated() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("r.sqlite")).unwrap();
        let snap = Snapshot {
            list: "a",
            file: "a.csv",
            hash: "h1",
            bytes: b"x,y\n",
            encoding: "UTF-8",
            rows_read: 0,
            rows_imported: 0,
        };
        assert!(
            s.add_snapshot(&snap, &[(2, "x", "v", "bad", true)])
                .unwrap()
        );
        assert!(!s.add_snapshot(&snap, &[]).unwrap());
        assert_eq!(s.snapshot_count().unwrap(), 1);
        assert_eq!(s.snapshot_bytes("h1").unwrap().unwrap(), b"x,y\n");
        assert!(s.conn.execute("DELETE FROM snapshots", []).is_err());
        assert!(
            s.conn
                .execute("UPDATE snapshots SET file = 'b'", [])
                .is_err()
        );
    }

    #[test]
    fn audit_chain_detects_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("r.sqlite")).unwrap();
        s.audit("cli", "import", "a").unwrap();
        s.audit("cli", "link", "b").unwrap();
        assert!(s.verify_audit().unwrap());
        s.conn
            .execute("UPDATE audit SET detail = 'c' WHERE id = 1", [])
            .unwrap();
        assert!(!s.verify_audit().unwrap());
    }
}
