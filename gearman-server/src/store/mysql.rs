//! gearmand's `MySQL` queue table (MySQL or MariaDB), with our two nullable columns.
//!
//! The table is gearmand's: `unique_key VARCHAR(64)`, `function_name VARCHAR(255)`,
//! `priority INT`, `data LONGBLOB`, `when_to_run INT`, `UNIQUE KEY (unique_key,
//! function_name)`, plus `reducer LONGBLOB` and `job_number BIGINT`, which gearmand neither reads
//! nor minds. A batch is one transaction of a few statements whatever its size (up to 1000 rows
//! each): multi-row `INSERT … ON DUPLICATE KEY UPDATE` for the rows to write, `DELETE … WHERE
//! (unique_key, function_name) IN (…)` for the keys to delete. As with gearmand, a function name
//! or unique must be text (UTF-8) to be stored; another one is refused with ERROR.

use bytes::Bytes;
use mysql::prelude::Queryable;
use mysql::{Opts, OptsBuilder, TxOpts, Value};

use super::{final_states, number_unnumbered, Backend, Reconnect, StoreOp, StoredJob};

/// Rows per statement: far below the 65,535 placeholders a statement may have.
const ROWS_PER_STATEMENT: usize = 1000;

pub struct MysqlStore {
    opts: Opts,
    conn: Option<mysql::Conn>,
    table: String,
    name: String,
    reconnect: Reconnect,
}

/// What `--mysql-*` say (gearmand's options and defaults).
pub struct MysqlOptions<'a> {
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub password: &'a str,
    pub db: &'a str,
    pub table: &'a str,
}

fn text(bytes: &[u8], what: &str) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| format!("the {what} is not text a MySQL VARCHAR column can hold"))
}

fn bytes_of(value: Option<Value>) -> Bytes {
    match value {
        Some(Value::Bytes(b)) => Bytes::from(b),
        _ => Bytes::new(),
    }
}

fn int_of(value: Option<Value>) -> Option<i64> {
    match value {
        Some(Value::Int(n)) => Some(n),
        Some(Value::UInt(n)) => i64::try_from(n).ok(),
        Some(Value::Bytes(b)) => std::str::from_utf8(&b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

impl MysqlStore {
    pub fn open(options: &MysqlOptions) -> Result<MysqlStore, String> {
        let table = options.table;
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "bad MySQL table name {table:?} (letters, digits and _ only)"
            ));
        }
        let name = format!("mysql queue {}:{}", options.host, options.port);
        let builder = OptsBuilder::new()
            .ip_or_hostname(Some(options.host))
            .tcp_port(options.port)
            .user((!options.user.is_empty()).then_some(options.user))
            .pass((!options.password.is_empty()).then_some(options.password))
            .db_name((!options.db.is_empty()).then_some(options.db))
            // The local socket instead of TCP for localhost is libmysqlclient's habit, not ours.
            .prefer_socket(false);
        let opts = Opts::from(builder);
        let mut conn = mysql::Conn::new(opts.clone()).map_err(|e| format!("{name}: {e}"))?;
        conn.query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {table} (unique_key VARCHAR(64),
               function_name VARCHAR(255), priority INT, data LONGBLOB, when_to_run INT,
               UNIQUE KEY (unique_key, function_name))"
        ))
        .map_err(|e| format!("{name}: {e}"))?;
        let existing: Vec<String> = conn
            .exec(
                "SELECT column_name FROM information_schema.columns
                 WHERE table_schema = DATABASE() AND table_name = ?",
                (table,),
            )
            .map_err(|e| format!("{name}: {e}"))?;
        for (column, ty) in [("reducer", "LONGBLOB"), ("job_number", "BIGINT")] {
            if !existing.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                conn.query_drop(format!("ALTER TABLE {table} ADD COLUMN {column} {ty} NULL"))
                    .map_err(|e| format!("{name}: {e}"))?;
            }
        }
        Ok(MysqlStore {
            opts,
            conn: Some(conn),
            table: table.to_string(),
            name,
            reconnect: Reconnect::default(),
        })
    }

    fn conn(&mut self) -> Result<&mut mysql::Conn, String> {
        let opts = &self.opts;
        self.reconnect.connection(&mut self.conn, &self.name, || {
            mysql::Conn::new(opts.clone())
        })
    }

    fn write_batch(conn: &mut mysql::Conn, table: &str, ops: &[StoreOp]) -> Result<(), String> {
        let (writes, deletes) = final_states(ops);
        let mut rows = Vec::with_capacity(writes.len());
        for job in writes {
            rows.push([
                Value::from(text(&job.unique, "unique")?),
                Value::from(text(&job.function, "function name")?),
                Value::from(i64::from(job.priority)),
                Value::from(job.data.to_vec()),
                Value::from(i64::try_from(job.when).map_err(|_| "run-at time out of range")?),
                if job.reducer.is_empty() {
                    Value::NULL
                } else {
                    Value::from(job.reducer.to_vec())
                },
                Value::from(job.no as i64),
            ]);
        }
        // A key that is not text was never stored.
        let keys: Vec<[Value; 2]> = deletes
            .iter()
            .filter_map(|(unique, function)| {
                let unique = text(unique, "unique").ok()?;
                let function = text(function, "function name").ok()?;
                Some([Value::from(unique), Value::from(function)])
            })
            .collect();
        let mut tx = conn
            .start_transaction(TxOpts::default())
            .map_err(|e| e.to_string())?;
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let tuples = vec!["(?, ?)"; chunk.len()].join(", ");
            let params: Vec<Value> = chunk.iter().flat_map(|k| k.iter().cloned()).collect();
            tx.exec_drop(
                format!("DELETE FROM {table} WHERE (unique_key, function_name) IN ({tuples})"),
                params,
            )
            .map_err(|e| e.to_string())?;
        }
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let tuples = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let params: Vec<Value> = chunk.iter().flat_map(|r| r.iter().cloned()).collect();
            tx.exec_drop(
                format!(
                    "INSERT INTO {table} (unique_key, function_name, priority, data, when_to_run,
                       reducer, job_number) VALUES {tuples}
                     ON DUPLICATE KEY UPDATE priority = VALUES(priority), data = VALUES(data),
                       when_to_run = VALUES(when_to_run), reducer = VALUES(reducer),
                       job_number = VALUES(job_number)"
                ),
                params,
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }
}

impl Backend for MysqlStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn load(&mut self) -> Result<Vec<StoredJob>, String> {
        let table = self.table.clone();
        let conn = self.conn()?;
        // gearmand's rows carry no number: after ours, in the order the table holds them.
        let rows: Vec<mysql::Row> = conn
            .query(format!(
                "SELECT function_name, unique_key, reducer, data, priority, when_to_run, job_number
                 FROM {table} ORDER BY job_number IS NULL, job_number"
            ))
            .map_err(|e| e.to_string())?;
        let mut jobs = Vec::with_capacity(rows.len());
        for mut row in rows {
            jobs.push(StoredJob {
                function: bytes_of(row.take(0)),
                unique: bytes_of(row.take(1)),
                reducer: bytes_of(row.take(2)),
                data: bytes_of(row.take(3)),
                priority: int_of(row.take(4)).unwrap_or(1).clamp(0, 2) as u8,
                when: int_of(row.take(5)).unwrap_or(0).max(0) as u64,
                no: int_of(row.take(6))
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            });
        }
        number_unnumbered(&mut jobs);
        Ok(jobs)
    }

    fn write(&mut self, ops: &[StoreOp]) -> Result<(), String> {
        let table = self.table.clone();
        let conn = self.conn()?;
        let result = Self::write_batch(conn, &table, ops);
        if result.is_err() && self.conn.as_mut().is_some_and(|c| c.ping().is_err()) {
            tracing::warn!(queue = %self.name, "connection lost");
            self.conn = None;
            self.reconnect.succeeded();
        }
        result
    }
}
