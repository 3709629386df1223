//! gearmand's `redis` queue keys, with our extras beside them.
//!
//! gearmand stores a job as the hash `<prefix>-<function>-<unique>` = {`data`, `priority`} and
//! reads it back only if the hash has exactly those two fields. So that gearmand keeps running
//! our jobs, ours has just those two too; what gearmand cannot hold (the exact function and
//! unique, which its key cannot tell apart when they contain `-`; the run-at time, which it
//! refuses; the reducer; the job number, which keeps handles and the order jobs were stored in)
//! is in a second hash, `\0gearman-rs\0<the job's key>`, written and deleted with it in one
//! MULTI/EXEC. A key starting with NUL never matches gearmand's `KEYS <prefix>*`.
//!
//! Durability is what the Redis server is configured for (`appendonly yes` with
//! `appendfsync always` makes every acknowledged job survive a crash of Redis itself).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;

use super::{number_unnumbered, Backend, Reconnect, StoreOp, StoredJob};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Marks our side hashes (see the module docs).
const EXTRA_PREFIX: &[u8] = b"\0gearman-rs\0";

pub struct RedisStore {
    client: redis::Client,
    conn: Option<redis::Connection>,
    prefix: Vec<u8>,
    name: String,
    reconnect: Reconnect,
}

/// `%`-encodes what a URL's user-info part cannot hold as it is.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `pattern` with Redis's glob characters escaped.
fn glob_escape(pattern: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pattern.len());
    for &b in pattern {
        if b"*?[]\\".contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// What a gearmand key `<prefix>-<function>-<unique>` holds after the prefix, read without our
/// side hash. gearmand splits at the first `-` (and so cuts a function name with a `-` short);
/// ours does too, except when the key ends in a UUID (what libgearman's clients generate), which
/// is then the unique and the rest the function.
fn split_key(rest: &[u8]) -> (Bytes, Bytes) {
    const UUID_LEN: usize = 36;
    let is_uuid = |u: &[u8]| {
        u.len() == UUID_LEN
            && u.iter().enumerate().all(|(i, &c)| match i {
                8 | 13 | 18 | 23 => c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    if rest.len() > UUID_LEN + 1 {
        let (function, unique) = rest.split_at(rest.len() - UUID_LEN);
        if is_uuid(unique) && function.ends_with(b"-") {
            let function = &function[..function.len() - 1];
            return (
                Bytes::copy_from_slice(function),
                Bytes::copy_from_slice(unique),
            );
        }
    }
    match rest.iter().position(|&b| b == b'-') {
        Some(dash) => (
            Bytes::copy_from_slice(&rest[..dash]),
            Bytes::copy_from_slice(&rest[dash + 1..]),
        ),
        None => (Bytes::copy_from_slice(rest), Bytes::new()),
    }
}

fn number<T: std::str::FromStr>(fields: &HashMap<Vec<u8>, Vec<u8>>, name: &str) -> Option<T> {
    let value = fields.get(name.as_bytes())?;
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Keys read per pipelined round trip at start-up.
const LOAD_CHUNK: usize = 1000;

type Fields = HashMap<Vec<u8>, Vec<u8>>;

/// `command(key)` for each key, in one pipelined round trip; the replies in order.
fn query_each<'a, T: redis::FromRedisValue>(
    conn: &mut redis::Connection,
    keys: impl Iterator<Item = &'a Vec<u8>>,
    command: impl Fn(&[u8]) -> redis::Cmd,
) -> Result<Vec<T>, String> {
    let mut pipe = redis::pipe();
    let mut any = false;
    for key in keys {
        pipe.add_command(command(key));
        any = true;
    }
    if !any {
        return Ok(Vec::new());
    }
    pipe.query(conn).map_err(|e| e.to_string())
}

/// Every key matching `pattern` (SCAN, which does not block Redis as KEYS would).
fn scan(conn: &mut redis::Connection, pattern: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let keys = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(1000)
        .clone()
        .iter::<Vec<u8>>(conn)
        .map_err(|e| e.to_string())?;
    Ok(keys.collect())
}

impl RedisStore {
    /// Connects (a server that cannot be reached now is an error: gearmand would not start
    /// either).
    pub fn open(
        host: &str,
        port: u16,
        password: Option<&str>,
        prefix: &str,
    ) -> Result<RedisStore, String> {
        let name = format!("redis queue {host}:{port}");
        let auth = password.map_or(String::new(), |p| format!(":{}@", url_encode(p)));
        let host_part = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let url = format!("redis://{auth}{host_part}:{port}/");
        let client = redis::Client::open(url).map_err(|e| format!("{name}: {e}"))?;
        let conn = client
            .get_connection_with_timeout(CONNECT_TIMEOUT)
            .map_err(|e| format!("{name}: {e}"))?;
        Ok(RedisStore {
            client,
            conn: Some(conn),
            prefix: prefix.as_bytes().to_vec(),
            name,
            reconnect: Reconnect::default(),
        })
    }

    fn key(&self, function: &[u8], unique: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix.len() + function.len() + unique.len() + 2);
        key.extend_from_slice(&self.prefix);
        key.push(b'-');
        key.extend_from_slice(function);
        key.push(b'-');
        key.extend_from_slice(unique);
        key
    }

    fn extra_key(key: &[u8]) -> Vec<u8> {
        [EXTRA_PREFIX, key].concat()
    }

    /// The connection, reconnecting (with back-off) after it was lost.
    fn connection(&mut self) -> Result<&mut redis::Connection, String> {
        let client = &self.client;
        self.reconnect.connection(&mut self.conn, &self.name, || {
            client.get_connection_with_timeout(CONNECT_TIMEOUT)
        })
    }

    /// Deletes the side hashes whose job is gone: gearmand runs and deletes our jobs, but not
    /// the hashes beside them, which it does not know of.
    fn remove_orphan_extras(&mut self, job_keys: &HashSet<&[u8]>) -> Result<(), String> {
        let mut pattern = glob_escape(&Self::extra_key(&self.prefix));
        pattern.extend_from_slice(b"-*");
        let conn = self.connection()?;
        let orphans: Vec<Vec<u8>> = scan(conn, &pattern)?
            .into_iter()
            .filter(|extra| !job_keys.contains(&extra[EXTRA_PREFIX.len()..]))
            .collect();
        for chunk in orphans.chunks(LOAD_CHUNK) {
            redis::cmd("DEL")
                .arg(chunk)
                .query::<()>(conn)
                .map_err(|e| e.to_string())?;
        }
        if !orphans.is_empty() {
            tracing::info!(queue = %self.name, orphans = orphans.len(), "removed side hashes of jobs another server ran");
        }
        Ok(())
    }

    /// Drops a connection that failed, so the next write reconnects.
    fn check<T>(&mut self, result: redis::RedisResult<T>) -> Result<T, String> {
        result.map_err(|e| {
            if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                tracing::warn!(queue = %self.name, error = %e, "connection lost");
                self.conn = None;
                self.reconnect.succeeded();
            }
            e.to_string()
        })
    }
}

impl Backend for RedisStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn load(&mut self) -> Result<Vec<StoredJob>, String> {
        let mut pattern = glob_escape(&self.prefix);
        pattern.extend_from_slice(b"-*");
        let keys = scan(self.connection()?, &pattern)?;
        let mut jobs = Vec::with_capacity(keys.len());
        let (prefix_len, name) = (self.prefix.len(), self.name.clone());
        // A few pipelined round trips per chunk of keys, not several per job.
        for chunk in keys.chunks(LOAD_CHUNK) {
            let conn = self.connection()?;
            let kinds: Vec<String> = query_each(conn, chunk.iter(), |key| {
                redis::cmd("TYPE").arg(key).clone()
            })?;
            let extras: Vec<Fields> = query_each(conn, chunk.iter(), |key| {
                redis::cmd("HGETALL").arg(Self::extra_key(key)).clone()
            })?;
            let is_hash = |i: &usize| kinds[*i] == "hash";
            let hash_keys = (0..chunk.len()).filter(is_hash).map(|i| &chunk[i]);
            let mut hashes = query_each::<Fields>(conn, hash_keys, |key| {
                redis::cmd("HGETALL").arg(key).clone()
            })?
            .into_iter();
            for (i, key) in chunk.iter().enumerate() {
                let (data, priority) = match kinds[i].as_str() {
                    "hash" => {
                        let fields = hashes.next().unwrap_or_default();
                        let data = fields.get(&b"data"[..]).cloned().unwrap_or_default();
                        (data, number::<u8>(&fields, "priority").unwrap_or(1))
                    }
                    // gearmand up to 1.1.15 stored the workload alone.
                    "string" => {
                        let data: Vec<u8> = redis::cmd("GET")
                            .arg(key)
                            .query(conn)
                            .map_err(|e| e.to_string())?;
                        (data, 1)
                    }
                    other => {
                        tracing::warn!(queue = %name, key = %String::from_utf8_lossy(key), kind = other, "not a job; skipped");
                        continue;
                    }
                };
                let extra = &extras[i];
                let (function, unique) =
                    match (extra.get(&b"function"[..]), extra.get(&b"unique"[..])) {
                        (Some(f), Some(u)) => {
                            (Bytes::copy_from_slice(f), Bytes::copy_from_slice(u))
                        }
                        _ => split_key(&key[prefix_len + 1..]),
                    };
                jobs.push(StoredJob {
                    no: number(extra, "job_number").unwrap_or(0),
                    function,
                    unique,
                    reducer: Bytes::from(extra.get(&b"reducer"[..]).cloned().unwrap_or_default()),
                    data: Bytes::from(data),
                    priority: priority.min(2),
                    when: number(extra, "when").unwrap_or(0),
                });
            }
        }
        let job_keys: HashSet<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        self.remove_orphan_extras(&job_keys)?;
        // Redis keeps no order: ours by job number (the order they were stored in), then
        // gearmand's.
        jobs.sort_by_key(|j| (j.no == 0, j.no));
        number_unnumbered(&mut jobs);
        Ok(jobs)
    }

    fn write(&mut self, ops: &[StoreOp]) -> Result<(), String> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for op in ops {
            match op {
                StoreOp::Insert { job, .. } => {
                    let key = self.key(&job.function, &job.unique);
                    pipe.cmd("DEL").arg(&key).ignore();
                    pipe.cmd("HSET")
                        .arg(&key)
                        .arg("data")
                        .arg(&job.data[..])
                        .arg("priority")
                        .arg(job.priority.to_string())
                        .ignore();
                    pipe.cmd("HSET")
                        .arg(Self::extra_key(&key))
                        .arg("function")
                        .arg(&job.function[..])
                        .arg("unique")
                        .arg(&job.unique[..])
                        .arg("when")
                        .arg(job.when)
                        .arg("reducer")
                        .arg(&job.reducer[..])
                        .arg("job_number")
                        .arg(job.no)
                        .ignore();
                }
                StoreOp::Delete { function, unique } => {
                    let key = self.key(function, unique);
                    pipe.cmd("DEL")
                        .arg(&key)
                        .arg(Self::extra_key(&key))
                        .ignore();
                }
            }
        }
        let conn = self.connection()?;
        let result = pipe.query::<()>(conn);
        self.check(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gearmand_keys_split_as_gearmand_does_unless_they_end_in_a_uuid() {
        let split = |k: &str| {
            let (f, u) = split_key(k.as_bytes());
            (
                String::from_utf8(f.to_vec()).unwrap(),
                String::from_utf8(u.to_vec()).unwrap(),
            )
        };
        assert_eq!(split("f-u1"), ("f".into(), "u1".into()));
        assert_eq!(split("f-a-b"), ("f".into(), "a-b".into()));
        assert_eq!(
            split("resize-image-6a03ffa2-edb4-11f1-853b-02fc00000001"),
            (
                "resize-image".into(),
                "6a03ffa2-edb4-11f1-853b-02fc00000001".into()
            )
        );
        assert_eq!(split("f"), ("f".into(), "".into()));
    }
}
