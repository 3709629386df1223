//! The text admin protocol: commands as a server parses them, and replies as a client parses them.

use bytes::Bytes;

/// A parsed admin command line (gearmand's grammar, §5 of the protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    Status,
    PriorityStatus,
    Workers,
    Version,
    GetPid,
    Verbose,
    /// `maxqueue F [H [N [L]]]`: `None` limits mean "not given".
    MaxQueue {
        function: Bytes,
        limits: Vec<i64>,
    },
    /// `maxqueue` with no function.
    MaxQueueIncomplete,
    ShowJobs,
    ShowUniqueJobs,
    /// `show <anything else>`
    ShowUnknown,
    CancelJob(Bytes),
    /// `cancel x y` where x is not `job`.
    CancelMalformed,
    CreateFunction(Bytes),
    DropFunction(Bytes),
    DropIncomplete,
    Shutdown {
        graceful: bool,
    },
    /// Anything else; holds the first word (possibly empty).
    Unknown(Bytes),
}

impl AdminCommand {
    /// Parses one line (without its line terminator).
    pub fn parse(line: &[u8]) -> AdminCommand {
        let tokens: Vec<&[u8]> = line
            .split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
            .collect();
        let word = |i: usize| tokens.get(i).map(|t| t.to_ascii_lowercase());
        let first = word(0).unwrap_or_default();
        let arg = |i: usize| Bytes::copy_from_slice(tokens[i]);
        match (first.as_slice(), tokens.len()) {
            (b"status", _) => AdminCommand::Status,
            (b"prioritystatus", _) => AdminCommand::PriorityStatus,
            (b"workers", _) => AdminCommand::Workers,
            (b"version", _) => AdminCommand::Version,
            (b"getpid", _) => AdminCommand::GetPid,
            (b"verbose", _) => AdminCommand::Verbose,
            (b"maxqueue", 1) => AdminCommand::MaxQueueIncomplete,
            (b"maxqueue", n) => AdminCommand::MaxQueue {
                function: arg(1),
                limits: (2..n.min(5))
                    .map(|i| {
                        std::str::from_utf8(tokens[i])
                            .ok()
                            .and_then(|s| s.parse().ok())
                    })
                    .map(|v| v.unwrap_or(0))
                    .collect(),
            },
            (b"show", n) if n >= 2 => match (word(1).as_deref(), word(2).as_deref()) {
                (Some(b"jobs"), _) => AdminCommand::ShowJobs,
                (Some(b"unique"), Some(b"jobs")) => AdminCommand::ShowUniqueJobs,
                _ => AdminCommand::ShowUnknown,
            },
            (b"cancel", 3) if word(1).as_deref() == Some(b"job") => AdminCommand::CancelJob(arg(2)),
            (b"cancel", 3) => AdminCommand::CancelMalformed,
            (b"create", 3) if word(1).as_deref() == Some(b"function") => {
                AdminCommand::CreateFunction(arg(2))
            }
            (b"drop", 3) if word(1).as_deref() == Some(b"function") => {
                AdminCommand::DropFunction(arg(2))
            }
            (b"drop", _) => AdminCommand::DropIncomplete,
            (b"shutdown", 1) => AdminCommand::Shutdown { graceful: false },
            (b"shutdown", 2) if word(1).as_deref() == Some(b"graceful") => {
                AdminCommand::Shutdown { graceful: true }
            }
            _ => AdminCommand::Unknown(
                tokens
                    .first()
                    .map(|t| Bytes::copy_from_slice(t))
                    .unwrap_or_default(),
            ),
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionStatus {
    pub function: String,
    /// Queued plus running jobs.
    pub total: u64,
    pub running: u64,
    /// Registered workers.
    pub workers: u64,
}

/// One line of `prioritystatus` (queued jobs only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionPriorityStatus {
    pub function: String,
    pub high: u64,
    pub normal: u64,
    pub low: u64,
    pub workers: u64,
}

/// One line of `workers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    pub fd: String,
    pub ip: String,
    pub client_id: String,
    pub functions: Vec<String>,
}

/// One line of `show jobs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub handle: String,
    pub retries: u64,
    pub ignored: bool,
    pub background: bool,
}

/// A listing's lines could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed admin reply line: {0:?}")]
pub struct MalformedReply(pub String);

fn number(field: &str, line: &str) -> Result<u64, MalformedReply> {
    field
        .trim()
        .parse()
        .map_err(|_| MalformedReply(line.to_string()))
}

fn tab_fields<const N: usize>(line: &str) -> Result<[&str; N], MalformedReply> {
    let fields: Vec<&str> = line.split('\t').collect();
    fields
        .try_into()
        .map_err(|_| MalformedReply(line.to_string()))
}

/// Parses the lines of a `status` listing (without the final `.`).
pub fn parse_status(lines: &[String]) -> Result<Vec<FunctionStatus>, MalformedReply> {
    lines
        .iter()
        .map(|line| {
            let [function, total, running, workers] = tab_fields(line)?;
            Ok(FunctionStatus {
                function: function.to_string(),
                total: number(total, line)?,
                running: number(running, line)?,
                workers: number(workers, line)?,
            })
        })
        .collect()
}

/// Parses the lines of a `prioritystatus` listing.
pub fn parse_priority_status(
    lines: &[String],
) -> Result<Vec<FunctionPriorityStatus>, MalformedReply> {
    lines
        .iter()
        .map(|line| {
            let [function, high, normal, low, workers] = tab_fields(line)?;
            Ok(FunctionPriorityStatus {
                function: function.to_string(),
                high: number(high, line)?,
                normal: number(normal, line)?,
                low: number(low, line)?,
                workers: number(workers, line)?,
            })
        })
        .collect()
}

/// Parses the lines of a `workers` listing: `FD IP CLIENT_ID : func func…`.
pub fn parse_workers(lines: &[String]) -> Result<Vec<WorkerInfo>, MalformedReply> {
    lines
        .iter()
        .map(|line| {
            let (head, funcs) = line
                .split_once(':')
                .ok_or_else(|| MalformedReply(line.clone()))?;
            let head: Vec<&str> = head.split_whitespace().collect();
            let [fd, ip, client_id] = head[..] else {
                return Err(MalformedReply(line.clone()));
            };
            Ok(WorkerInfo {
                fd: fd.to_string(),
                ip: ip.to_string(),
                client_id: client_id.to_string(),
                functions: funcs.split_whitespace().map(str::to_string).collect(),
            })
        })
        .collect()
}

/// Parses the lines of a `show jobs` listing.
pub fn parse_show_jobs(lines: &[String]) -> Result<Vec<JobInfo>, MalformedReply> {
    lines
        .iter()
        .map(|line| {
            let [handle, retries, ignored, queued] = tab_fields(line)?;
            Ok(JobInfo {
                handle: handle.to_string(),
                retries: number(retries, line)?,
                ignored: number(ignored, line)? != 0,
                background: number(queued, line)? != 0,
            })
        })
        .collect()
}

/// Decodes the `+`/`%XX` URL-style encoding gearmand uses in ERR texts.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes text the way gearmand does in ERR replies (spaces become `+`).
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_case_insensitively() {
        assert_eq!(AdminCommand::parse(b"STATUS"), AdminCommand::Status);
        assert_eq!(
            AdminCommand::parse(b"show  unique jobs"),
            AdminCommand::ShowUniqueJobs
        );
        assert_eq!(AdminCommand::parse(b"show jobs"), AdminCommand::ShowJobs);
        assert_eq!(AdminCommand::parse(b"show foo"), AdminCommand::ShowUnknown);
        assert_eq!(
            AdminCommand::parse(b"show"),
            AdminCommand::Unknown(Bytes::from("show"))
        );
        assert_eq!(
            AdminCommand::parse(b"cancel job H:x:1"),
            AdminCommand::CancelJob("H:x:1".into())
        );
        assert_eq!(
            AdminCommand::parse(b"cancel x y"),
            AdminCommand::CancelMalformed
        );
        assert_eq!(
            AdminCommand::parse(b"cancel job"),
            AdminCommand::Unknown("cancel".into())
        );
        assert_eq!(
            AdminCommand::parse(b"create function bar"),
            AdminCommand::CreateFunction("bar".into())
        );
        assert_eq!(
            AdminCommand::parse(b""),
            AdminCommand::Unknown(Bytes::new())
        );
        assert_eq!(
            AdminCommand::parse(b"maxqueue f 1 2"),
            AdminCommand::MaxQueue {
                function: "f".into(),
                limits: vec![1, 2]
            }
        );
        assert_eq!(
            AdminCommand::parse(b"maxqueue"),
            AdminCommand::MaxQueueIncomplete
        );
        assert_eq!(
            AdminCommand::parse(b"shutdown graceful"),
            AdminCommand::Shutdown { graceful: true }
        );
    }

    #[test]
    fn parses_listings() {
        let status = parse_status(&["rev\t3\t1\t2".into()]).unwrap();
        assert_eq!(
            status[0],
            FunctionStatus {
                function: "rev".into(),
                total: 3,
                running: 1,
                workers: 2
            }
        );
        let workers = parse_workers(&[
            "22 127.0.0.1 myworker : rev f2".into(),
            "20 127.0.0.1 - :".into(),
        ])
        .unwrap();
        assert_eq!(workers[0].functions, vec!["rev", "f2"]);
        assert!(workers[1].functions.is_empty());
        let jobs = parse_show_jobs(&["H:test:5\t0\t0\t1".into()]).unwrap();
        assert!(jobs[0].background && !jobs[0].ignored);
        assert!(parse_status(&["garbage".into()]).is_err());
    }

    #[test]
    fn url_coding_round_trips() {
        let text = "An incomplete set: 100%";
        assert_eq!(url_decode(&url_encode(text)), text);
        assert_eq!(
            url_decode("Unknown+server+commandfoo"),
            "Unknown server commandfoo"
        );
    }
}
