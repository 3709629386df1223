//! Job descriptions and results shared by the client and its bindings.

use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::error::Error;
use crate::message::Request;
use crate::protocol::PacketType;

/// Job priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    High,
    #[default]
    Normal,
    Low,
}

/// What a client asks a server to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    pub function: Bytes,
    pub workload: Bytes,
    /// The caller's unique id; `None` lets the client generate one.
    pub unique: Option<Bytes>,
    pub priority: Priority,
    pub background: bool,
    /// Run-at time in seconds since the epoch (always a background job).
    pub epoch: Option<u64>,
    /// Reducer function name for map/reduce jobs.
    pub reducer: Option<Bytes>,
}

impl JobRequest {
    /// A foreground, normal-priority job.
    pub fn new(function: impl Into<Bytes>, workload: impl Into<Bytes>) -> JobRequest {
        JobRequest {
            function: function.into(),
            workload: workload.into(),
            unique: None,
            priority: Priority::Normal,
            background: false,
            epoch: None,
            reducer: None,
        }
    }

    pub fn unique(mut self, unique: impl Into<Bytes>) -> JobRequest {
        self.unique = Some(unique.into());
        self
    }

    pub fn priority(mut self, priority: Priority) -> JobRequest {
        self.priority = priority;
        self
    }

    pub fn background(mut self, background: bool) -> JobRequest {
        self.background = background;
        self
    }

    /// Schedules the job to run at `epoch` seconds; epoch jobs are background jobs.
    pub fn run_at(mut self, epoch: u64) -> JobRequest {
        self.epoch = Some(epoch);
        self.background = true;
        self
    }

    /// Makes this a map/reduce job with the given reducer.
    pub fn reducer(mut self, reducer: impl Into<Bytes>) -> JobRequest {
        self.reducer = Some(reducer.into());
        self
    }

    /// Whether the caller will wait for a result.
    pub fn is_background(&self) -> bool {
        self.background || self.epoch.is_some()
    }

    /// Checks the limits a server enforces, so the caller gets a clear error before sending.
    pub fn validate(&self) -> Result<(), Error> {
        if self.function.is_empty() {
            return Err(Error::InvalidArgument("function name is empty".into()));
        }
        if self.function.len() > crate::FUNCTION_MAX_SIZE {
            return Err(Error::InvalidArgument(format!(
                "function name longer than {} bytes",
                crate::FUNCTION_MAX_SIZE
            )));
        }
        if self.function.contains(&0) {
            return Err(Error::InvalidArgument(
                "function name contains a NUL byte".into(),
            ));
        }
        if let Some(unique) = &self.unique {
            if unique.len() > crate::protocol::MAX_UNIQUE_LEN {
                return Err(Error::InvalidArgument(format!(
                    "unique id longer than {} bytes",
                    crate::protocol::MAX_UNIQUE_LEN
                )));
            }
            if unique.contains(&0) {
                return Err(Error::InvalidArgument(
                    "unique id contains a NUL byte".into(),
                ));
            }
        }
        if self.reducer.as_ref().is_some_and(|r| r.contains(&0)) {
            return Err(Error::InvalidArgument(
                "reducer name contains a NUL byte".into(),
            ));
        }
        Ok(())
    }

    /// The SUBMIT request for this job, borrowing its fields. A missing unique is sent empty.
    pub fn to_request(&self) -> Request<&[u8]> {
        let (function, data) = (&self.function[..], &self.workload[..]);
        let unique = self.unique.as_deref().unwrap_or_default();
        if let Some(epoch) = self.epoch {
            return Request::SubmitJobEpoch {
                function,
                unique,
                epoch,
                data,
            };
        }
        if let Some(reducer) = &self.reducer {
            return Request::SubmitReduceJob {
                function,
                unique,
                reducer,
                data,
                background: self.background,
            };
        }
        Request::SubmitJob {
            function,
            unique,
            data,
            priority: self.priority,
            background: self.background,
        }
    }

    /// The SUBMIT packet type for this request.
    pub fn packet_type(&self) -> PacketType {
        self.to_request().kind()
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// WORK_COMPLETE with its result.
    Complete(Bytes),
    /// WORK_FAIL.
    Failed,
    /// WORK_EXCEPTION with its data (only with the exceptions option).
    Exception(Bytes),
    /// A background job the server accepted.
    Queued,
    /// The job could not be run: no server, a server error, a dead connection with nowhere to
    /// resubmit.
    Error(Error),
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Complete(_) | Outcome::Queued)
    }
}

/// Everything a client learned about one job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobResult {
    pub handle: Option<Bytes>,
    pub unique: Bytes,
    pub outcome: Option<Outcome>,
    pub data: Vec<Bytes>,
    pub warnings: Vec<Bytes>,
    /// The last WORK_STATUS `(numerator, denominator)`, once one arrived.
    pub status: Option<(u64, u64)>,
}

impl JobResult {
    /// The WORK_COMPLETE payload, if the job completed.
    pub fn result(&self) -> Option<&Bytes> {
        match &self.outcome {
            Some(Outcome::Complete(data)) => Some(data),
            _ => None,
        }
    }

    /// What libgearman's `do` returns for a completed job: the WORK_DATA chunks followed by the
    /// WORK_COMPLETE payload.
    pub fn data_then_result(&self) -> Option<Bytes> {
        let last = self.result()?;
        if self.data.is_empty() {
            return Some(last.clone());
        }
        let mut all = self.data.concat();
        all.extend_from_slice(last);
        Some(all.into())
    }
}

/// A server's answer to GET_STATUS or GET_STATUS_UNIQUE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobStatus {
    /// The handle (GET_STATUS) or unique (GET_STATUS_UNIQUE) the status is for.
    pub key: Bytes,
    pub known: bool,
    pub running: bool,
    pub numerator: u64,
    pub denominator: u64,
    /// Clients waiting on the job (GET_STATUS_UNIQUE only).
    pub client_count: Option<u64>,
}

/// Parses a decimal field leniently, as libgearman does (`atoi`): junk or empty is 0.
pub fn parse_number(field: &[u8]) -> u64 {
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Generates 36-character unique ids shaped like libgearman's UUIDs, for one client.
///
/// They are UUIDs version 7 (RFC 9562): the first 48 bits are the time in milliseconds, the
/// rest random. Ids made close in time sort close together, so a durable queue's index on the
/// unique (gearmand's tables have one) takes them at its end: the random ids of version 4 put
/// each insert on another page, which made every SQLite commit write a page per job.
///
/// The random part mixes a random key, the time and the process id once, at creation, with a
/// counter, so a generator created after `fork()` never repeats its parent's ids; each id then
/// costs one clock read and no system call.
#[derive(Debug, Clone)]
pub struct UniqueGenerator {
    seed: std::collections::hash_map::RandomState,
    salt: u128,
    count: u64,
}

impl Default for UniqueGenerator {
    fn default() -> Self {
        UniqueGenerator::new()
    }
}

impl UniqueGenerator {
    pub fn new() -> UniqueGenerator {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        UniqueGenerator {
            seed: std::collections::hash_map::RandomState::new(),
            salt: nanos ^ (u128::from(std::process::id()) << 96),
            count: 0,
        }
    }

    pub fn next_unique(&mut self) -> Bytes {
        self.count += 1;
        let mut h = self.seed.build_hasher();
        h.write_u128(self.salt);
        h.write_u64(self.count);
        let a = h.finish();
        h.write_u64(a);
        let b = h.finish();
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // Written without the formatting machinery (it is per job).
        let mut text = [0u8; 36];
        put_hex(&mut text[0..8], millis >> 16);
        text[8] = b'-';
        put_hex(&mut text[9..13], millis & 0xffff);
        text[13] = b'-';
        text[14] = b'7';
        put_hex(&mut text[15..18], a & 0xfff);
        text[18] = b'-';
        put_hex(&mut text[19..23], (b >> 48) & 0x3fff | 0x8000);
        text[23] = b'-';
        put_hex(&mut text[24..36], b & 0xffff_ffff_ffff);
        Bytes::copy_from_slice(&text)
    }
}

/// Writes the low `out.len()` hex digits of `value` into `out`, most significant first.
fn put_hex(out: &mut [u8], mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in out.iter_mut().rev() {
        *byte = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniques_are_36_chars_and_distinct() {
        let mut generator = UniqueGenerator::new();
        let a = generator.next_unique();
        let b = generator.next_unique();
        let c = UniqueGenerator::new().next_unique();
        assert_eq!(a.len(), 36);
        let text = std::str::from_utf8(&a).unwrap();
        let groups: Vec<&str> = text.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('7'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(text
            .bytes()
            .all(|c| c == b'-' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
        assert_ne!(a, c);
        // Version 7: the time comes first, so later ids sort after earlier ones.
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let stamp = u64::from_str_radix(&text[..8], 16).unwrap() << 16
            | u64::from_str_radix(&text[9..13], 16).unwrap();
        assert!(millis.abs_diff(stamp) < 10_000, "{stamp} vs {millis}");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(generator.next_unique() > a);
    }

    #[test]
    fn data_chunks_come_before_the_result() {
        let mut result = JobResult {
            data: vec![Bytes::from("a"), Bytes::from("b")],
            ..JobResult::default()
        };
        assert_eq!(result.data_then_result(), None);
        result.outcome = Some(Outcome::Complete(Bytes::from("c")));
        assert_eq!(result.data_then_result().as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn packet_types_follow_priority_and_mode() {
        let r = JobRequest::new("f", "x");
        assert_eq!(r.packet_type(), PacketType::SubmitJob);
        assert_eq!(
            r.clone()
                .priority(Priority::Low)
                .background(true)
                .packet_type(),
            PacketType::SubmitJobLowBg
        );
        assert_eq!(
            r.clone().run_at(5).packet_type(),
            PacketType::SubmitJobEpoch
        );
        assert_eq!(
            r.clone().reducer("red").packet_type(),
            PacketType::SubmitReduceJob
        );
        assert!(r.clone().unique(vec![b'u'; 65]).validate().is_err());
        assert!(JobRequest::new("", "x").validate().is_err());
    }
}
