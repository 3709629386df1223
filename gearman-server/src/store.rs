//! Durable background jobs in SQLite, with group commit.
//!
//! One thread owns the database. Submissions from every connection are queued to it; it takes
//! all that is waiting, writes it in one transaction, commits (WAL, `synchronous=FULL`), and only
//! then answers each submitter with JOB_CREATED. So an acknowledged background job is on disk,
//! and a burst of concurrent submissions shares one fsync.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use bytes::Bytes;
use gearman_core::message::Response;
use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use crate::output::{FlushOnDrop, Sink};

/// A background job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    /// The handle number; kept across restarts.
    pub no: u64,
    pub function: Bytes,
    pub unique: Bytes,
    pub reducer: Bytes,
    pub data: Bytes,
    pub priority: u8,
    pub when: u64,
}

/// Who to answer once an insert is committed.
pub struct Ack {
    pub out: Arc<dyn Sink>,
    pub handle: Bytes,
    pub done: oneshot::Sender<bool>,
}

/// Work for the store thread.
pub enum StoreOp {
    Insert { job: StoredJob, ack: Option<Ack> },
    Delete { no: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite queue {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("bad sqlite table name {0:?} (letters, digits and _ only)")]
    BadTable(String),
}

/// An open queue database.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    table: String,
}

impl SqliteStore {
    pub fn open(path: &Path, table: &str) -> Result<SqliteStore, StoreError> {
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::BadTable(table.to_string()));
        }
        let wrap = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(wrap)?;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                id INTEGER PRIMARY KEY,
                function_name BLOB NOT NULL,
                unique_key BLOB NOT NULL,
                reducer BLOB NOT NULL,
                data BLOB NOT NULL,
                priority INTEGER NOT NULL,
                when_to_run INTEGER NOT NULL
            )"
        ))
        .map_err(wrap)?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            table: table.to_string(),
        })
    }

    /// Every stored job, oldest first.
    pub fn load(&self) -> Result<Vec<StoredJob>, StoreError> {
        let wrap = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, function_name, unique_key, reducer, data, priority, when_to_run
                 FROM {} ORDER BY id",
                self.table
            ))
            .map_err(wrap)?;
        let rows = stmt
            .query_map([], |row| {
                Ok(StoredJob {
                    no: row.get::<_, i64>(0)? as u64,
                    function: Bytes::from(row.get::<_, Vec<u8>>(1)?),
                    unique: Bytes::from(row.get::<_, Vec<u8>>(2)?),
                    reducer: Bytes::from(row.get::<_, Vec<u8>>(3)?),
                    data: Bytes::from(row.get::<_, Vec<u8>>(4)?),
                    priority: row.get::<_, i64>(5)? as u8,
                    when: row.get::<_, i64>(6)? as u64,
                })
            })
            .map_err(wrap)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(wrap)
    }

    fn write(&mut self, ops: &[StoreOp]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(&format!(
                "INSERT OR REPLACE INTO {} (id, function_name, unique_key, reducer, data, priority, when_to_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                self.table
            ))?;
            let mut delete =
                tx.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", self.table))?;
            for op in ops {
                match op {
                    StoreOp::Insert { job, .. } => {
                        insert.execute(params![
                            job.no as i64,
                            &job.function[..],
                            &job.unique[..],
                            &job.reducer[..],
                            &job.data[..],
                            job.priority as i64,
                            job.when as i64
                        ])?;
                    }
                    StoreOp::Delete { no } => {
                        delete.execute(params![*no as i64])?;
                    }
                }
            }
        }
        tx.commit()
    }

    /// Runs the store loop until every sender is gone.
    pub fn run(mut self, ops: Receiver<StoreOp>) {
        const MAX_BATCH: usize = 4096;
        while let Ok(first) = ops.recv() {
            // Writes the acknowledgements queued below once the batch is answered.
            let _flush = FlushOnDrop;
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match ops.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
            let result = self.write(&batch);
            if let Err(e) = &result {
                tracing::error!(path = %self.path.display(), error = %e, "sqlite queue write failed");
            }
            for op in batch {
                if let StoreOp::Insert { ack: Some(ack), .. } = op {
                    match &result {
                        Ok(()) => ack.out.send(&Response::JobCreated {
                            handle: &ack.handle,
                        }),
                        Err(e) => {
                            let text = format!("sqlite queue: {e}");
                            ack.out.send(&Response::Error {
                                code: &b"QUEUE_ERROR"[..],
                                text: text.as_bytes(),
                            });
                        }
                    }
                    let _ = ack.done.send(result.is_ok());
                }
            }
        }
    }
}

/// Starts the store thread; returns the sender the engine uses.
pub fn spawn(store: SqliteStore) -> Sender<StoreOp> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("sqlite-queue".into())
        .spawn(move || store.run(rx))
        .expect("spawn sqlite thread");
    tx
}
