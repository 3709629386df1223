//! gearmand's `Postgres` (libpq) queue table, with our two nullable columns.
//!
//! The table is gearmand's: `unique_key VARCHAR(64)`, `function_name VARCHAR(255)`,
//! `priority INTEGER`, `data BYTEA`, `when_to_run INTEGER`, `UNIQUE (unique_key, function_name)`,
//! plus `reducer BYTEA` and `job_number BIGINT`, which gearmand neither reads nor minds. A batch
//! is one transaction of two statements whatever its size: the rows to write as one
//! `INSERT … SELECT FROM UNNEST(…) ON CONFLICT DO UPDATE`, the keys to delete as one
//! `DELETE … USING UNNEST(…)`. As with gearmand, a function name or unique must be text
//! (UTF-8, no NUL) to be stored; another one is refused with ERROR.

use std::str::FromStr;

use bytes::Bytes;

use super::{final_states, number_unnumbered, Backend, Reconnect, StoreOp, StoredJob};

pub struct PostgresStore {
    config: postgres::Config,
    client: Option<postgres::Client>,
    table: String,
    name: String,
    reconnect: Reconnect,
}

fn text<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.contains('\0') => Ok(s),
        _ => Err(format!(
            "the {what} is not text a PostgreSQL column can hold"
        )),
    }
}

impl PostgresStore {
    /// Connects with a libpq connection string (`host=… port=… user=… dbname=…`, or a
    /// `postgresql://` URL) and makes the table gearmand's plus our columns.
    pub fn open(conninfo: &str, table: &str) -> Result<PostgresStore, String> {
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "bad PostgreSQL table name {table:?} (letters, digits and _ only)"
            ));
        }
        let config = postgres::Config::from_str(conninfo)
            .map_err(|e| format!("postgres queue: bad --libpq-conninfo: {e}"))?;
        let name = format!(
            "postgres queue {}",
            config
                .get_hosts()
                .first()
                .map(|h| match h {
                    postgres::config::Host::Tcp(h) => h.clone(),
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_default()
        );
        let mut client = config
            .connect(postgres::NoTls)
            .map_err(|e| format!("{name}: {e}"))?;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (unique_key VARCHAR(64),
                   function_name VARCHAR(255), priority INTEGER, data BYTEA, when_to_run INTEGER,
                   UNIQUE (unique_key, function_name));
                 ALTER TABLE {table} ADD COLUMN IF NOT EXISTS reducer BYTEA;
                 ALTER TABLE {table} ADD COLUMN IF NOT EXISTS job_number BIGINT;"
            ))
            .map_err(|e| format!("{name}: {e}"))?;
        Ok(PostgresStore {
            config,
            client: Some(client),
            table: table.to_string(),
            name,
            reconnect: Reconnect::default(),
        })
    }

    fn client(&mut self) -> Result<&mut postgres::Client, String> {
        if self
            .client
            .as_ref()
            .is_some_and(postgres::Client::is_closed)
        {
            tracing::warn!(queue = %self.name, "connection lost");
            self.client = None;
        }
        let config = &self.config;
        self.reconnect.connection(&mut self.client, &self.name, || {
            config.connect(postgres::NoTls)
        })
    }
}

/// A batch's rows to write and keys to delete, as the statements' array parameters (borrowed
/// from the batch: no workload is copied).
#[derive(Default)]
struct Columns<'a> {
    uniques: Vec<&'a str>,
    functions: Vec<&'a str>,
    priorities: Vec<i32>,
    data: Vec<&'a [u8]>,
    whens: Vec<i32>,
    reducers: Vec<Option<&'a [u8]>>,
    numbers: Vec<i64>,
    delete_uniques: Vec<&'a str>,
    delete_functions: Vec<&'a str>,
}

fn columns(ops: &[StoreOp]) -> Result<Columns<'_>, String> {
    let (writes, deletes) = final_states(ops);
    let mut c = Columns::default();
    for job in writes {
        c.uniques.push(text(&job.unique, "unique")?);
        c.functions.push(text(&job.function, "function name")?);
        c.priorities.push(i32::from(job.priority));
        c.data.push(&job.data);
        c.whens
            .push(i32::try_from(job.when).map_err(|_| "run-at time past 2038")?);
        c.reducers
            .push((!job.reducer.is_empty()).then_some(&job.reducer[..]));
        c.numbers.push(job.no as i64);
    }
    for (unique, function) in deletes {
        // A key that is not text was never stored.
        if let (Ok(u), Ok(f)) = (text(unique, "unique"), text(function, "function name")) {
            c.delete_uniques.push(u);
            c.delete_functions.push(f);
        }
    }
    Ok(c)
}

impl Backend for PostgresStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn load(&mut self) -> Result<Vec<StoredJob>, String> {
        let table = self.table.clone();
        let client = self.client()?;
        // gearmand's rows carry no number: after ours, in the order the table holds them.
        let rows = client
            .query(
                &format!(
                    "SELECT function_name, unique_key, reducer, data, priority, when_to_run,
                            job_number
                     FROM {table} ORDER BY job_number NULLS LAST, ctid"
                ),
                &[],
            )
            .map_err(|e| e.to_string())?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let function: Option<String> = row.get(0);
            let unique: Option<String> = row.get(1);
            let reducer: Option<Vec<u8>> = row.get(2);
            let data: Option<Vec<u8>> = row.get(3);
            let priority: Option<i32> = row.get(4);
            let when: Option<i32> = row.get(5);
            let no: Option<i64> = row.get(6);
            jobs.push(StoredJob {
                no: no.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                function: Bytes::from(function.unwrap_or_default()),
                unique: Bytes::from(unique.unwrap_or_default()),
                reducer: Bytes::from(reducer.unwrap_or_default()),
                data: Bytes::from(data.unwrap_or_default()),
                priority: priority.unwrap_or(1).clamp(0, 2) as u8,
                when: when.unwrap_or(0).max(0) as u64,
            });
        }
        number_unnumbered(&mut jobs);
        Ok(jobs)
    }

    fn write(&mut self, ops: &[StoreOp]) -> Result<(), String> {
        let c = columns(ops)?;
        let table = self.table.clone();
        let client = self.client()?;
        let result = (|| -> Result<(), postgres::Error> {
            let mut tx = client.transaction()?;
            if !c.delete_uniques.is_empty() {
                tx.execute(
                    &format!(
                        "DELETE FROM {table} t USING UNNEST($1::varchar[], $2::varchar[]) AS d(u, f)
                         WHERE t.unique_key = d.u AND t.function_name = d.f"
                    ),
                    &[&c.delete_uniques, &c.delete_functions],
                )?;
            }
            if !c.uniques.is_empty() {
                tx.execute(
                    &format!(
                        "INSERT INTO {table}
                           (unique_key, function_name, priority, data, when_to_run, reducer,
                            job_number)
                         SELECT * FROM UNNEST($1::varchar[], $2::varchar[], $3::int[],
                           $4::bytea[], $5::int[], $6::bytea[], $7::bigint[])
                         ON CONFLICT (unique_key, function_name) DO UPDATE SET
                           priority = EXCLUDED.priority, data = EXCLUDED.data,
                           when_to_run = EXCLUDED.when_to_run, reducer = EXCLUDED.reducer,
                           job_number = EXCLUDED.job_number"
                    ),
                    &[
                        &c.uniques,
                        &c.functions,
                        &c.priorities,
                        &c.data,
                        &c.whens,
                        &c.reducers,
                        &c.numbers,
                    ],
                )?;
            }
            tx.commit()
        })();
        let closed = client.is_closed();
        result.map_err(|e| {
            if closed {
                // Reconnect at the next write.
                self.client = None;
                self.reconnect.succeeded();
            }
            e.to_string()
        })
    }
}
