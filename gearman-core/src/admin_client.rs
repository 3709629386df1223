//! An async client for the text admin protocol, with replies parsed into types.

use std::time::Duration;

use crate::admin::{
    parse_priority_status, parse_show_jobs, parse_status, parse_workers, url_decode,
    FunctionPriorityStatus, FunctionStatus, JobInfo, WorkerInfo,
};
use crate::connection::{Connection, ServerAddr};
use crate::error::Error;
use crate::protocol::{DEFAULT_MAX_LINE, DEFAULT_MAX_PAYLOAD};
use crate::tls::TlsConnector;

/// A reply to one admin command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminReply {
    /// `OK` or `OK <value>`; holds the value (possibly empty).
    Ok(String),
    /// The lines of a listing, without the final `.`.
    Listing(Vec<String>),
}

/// A connection speaking the text admin protocol.
#[derive(Debug)]
pub struct AdminClient {
    conn: Connection,
    timeout: Duration,
}

impl AdminClient {
    /// Connects; `timeout` bounds the connect and every reply.
    pub async fn connect(addr: &ServerAddr, timeout: Duration) -> Result<AdminClient, Error> {
        Self::connect_with(addr, timeout, None).await
    }

    /// Connects, over TLS when `tls` is given.
    pub async fn connect_with(
        addr: &ServerAddr,
        timeout: Duration,
        tls: Option<&TlsConnector>,
    ) -> Result<AdminClient, Error> {
        let conn = Connection::connect(addr, timeout, DEFAULT_MAX_PAYLOAD, tls).await?;
        Ok(AdminClient { conn, timeout })
    }

    async fn read_line(&mut self) -> Result<String, Error> {
        let line = self.conn.read_line(DEFAULT_MAX_LINE * 8);
        match crate::poll_driver::timeout(self.timeout, line).await {
            Some(line) => line,
            None => Err(Error::Timeout(self.timeout)),
        }
    }

    /// Sends a command whose reply is one `OK`/`ERR` line.
    pub async fn command(&mut self, line: &str) -> Result<String, Error> {
        self.send(line).await?;
        let reply = self.read_line().await?;
        parse_ok(&reply)
    }

    /// Sends a command whose reply is a listing ending with `.`.
    pub async fn listing(&mut self, line: &str) -> Result<Vec<String>, Error> {
        self.send(line).await?;
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await?;
            if line == "." {
                return Ok(lines);
            }
            if lines.is_empty() && line.starts_with("ERR ") {
                return parse_ok(&line).map(|_| Vec::new());
            }
            lines.push(line);
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), Error> {
        if line.contains('\n') {
            return Err(Error::InvalidArgument(
                "admin command contains a newline".into(),
            ));
        }
        self.conn.queue_raw(line.as_bytes());
        // CRLF, because gearmand's `create function` drops the last byte before a bare LF.
        self.conn.queue_raw(b"\r\n");
        self.conn.flush().await
    }

    pub async fn status(&mut self) -> Result<Vec<FunctionStatus>, Error> {
        let lines = self.listing("status").await?;
        parse_status(&lines).map_err(malformed)
    }

    pub async fn priority_status(&mut self) -> Result<Vec<FunctionPriorityStatus>, Error> {
        let lines = self.listing("prioritystatus").await?;
        parse_priority_status(&lines).map_err(malformed)
    }

    pub async fn workers(&mut self) -> Result<Vec<WorkerInfo>, Error> {
        let lines = self.listing("workers").await?;
        parse_workers(&lines).map_err(malformed)
    }

    pub async fn show_jobs(&mut self) -> Result<Vec<JobInfo>, Error> {
        let lines = self.listing("show jobs").await?;
        parse_show_jobs(&lines).map_err(malformed)
    }

    pub async fn show_unique_jobs(&mut self) -> Result<Vec<String>, Error> {
        self.listing("show unique jobs").await
    }

    pub async fn version(&mut self) -> Result<String, Error> {
        self.command("version").await
    }

    pub async fn getpid(&mut self) -> Result<u32, Error> {
        let text = self.command("getpid").await?;
        text.trim()
            .parse()
            .map_err(|_| malformed(crate::admin::MalformedReply(text)))
    }

    pub async fn verbose(&mut self) -> Result<String, Error> {
        self.command("verbose").await
    }

    /// Sets a function's queue limits: one number for all priorities, or high, normal, low.
    pub async fn maxqueue(&mut self, function: &str, limits: &[i64]) -> Result<(), Error> {
        check_token(function)?;
        let numbers: Vec<String> = limits.iter().map(i64::to_string).collect();
        let mut line = format!("maxqueue {function}");
        for n in &numbers {
            line.push(' ');
            line.push_str(n);
        }
        self.command(&line).await.map(drop)
    }

    pub async fn cancel_job(&mut self, handle: &str) -> Result<(), Error> {
        check_token(handle)?;
        self.command(&format!("cancel job {handle}"))
            .await
            .map(drop)
    }

    pub async fn create_function(&mut self, function: &str) -> Result<(), Error> {
        check_token(function)?;
        self.command(&format!("create function {function}"))
            .await
            .map(drop)
    }

    pub async fn drop_function(&mut self, function: &str) -> Result<(), Error> {
        check_token(function)?;
        self.command(&format!("drop function {function}"))
            .await
            .map(drop)
    }

    /// Asks the server to stop (our gearmand accepts this from loopback only).
    pub async fn shutdown(&mut self, graceful: bool) -> Result<(), Error> {
        let line = if graceful {
            "shutdown graceful"
        } else {
            "shutdown"
        };
        self.command(line).await.map(drop)
    }
}

fn check_token(token: &str) -> Result<(), Error> {
    if token.is_empty() || token.contains(|c: char| c.is_whitespace()) {
        return Err(Error::InvalidArgument(format!(
            "{token:?} is not a single word"
        )));
    }
    Ok(())
}

fn malformed(e: crate::admin::MalformedReply) -> Error {
    Error::Admin {
        code: "MALFORMED_REPLY".into(),
        text: e.0,
    }
}

/// Parses an `OK [value]` or `ERR CODE text` line.
pub fn parse_ok(line: &str) -> Result<String, Error> {
    if line == "OK" {
        return Ok(String::new());
    }
    if let Some(value) = line.strip_prefix("OK ") {
        return Ok(value.to_string());
    }
    if let Some(rest) = line.strip_prefix("ERR") {
        let rest = rest.trim_start();
        let (code, text) = rest.split_once(' ').unwrap_or((rest, ""));
        return Err(Error::Admin {
            code: code.to_string(),
            text: url_decode(text),
        });
    }
    // Servers such as the Perl one answer `version` without "OK".
    Ok(line.to_string())
}
