//! `gearman`: submit jobs (client mode) or run a command per job (worker mode, `-w`).
//! Options follow the C tool (getopt `bc:f:h:HILnNp:Pst:u:vwi:dS`).

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use gearman_cli::{
    daemonize, init_logging, parse_args, parse_port, servers, write_pid_file, TlsArgs,
};
use gearman_core::blocking::{BlockingClient, BlockingWorker, JobContext, JobFailure};
use gearman_core::{
    ClientOptions, JobEvent, JobId, JobRequest, Outcome, Priority, TlsConnector, WorkerOptions,
};

/// Jobs kept in flight by one client when reading many lines.
const WINDOW: usize = 512;

#[derive(Parser, Debug)]
#[command(
    name = "gearman",
    disable_help_flag = true,
    disable_version_flag = true,
    about = "Gearman client and worker tool",
    after_help = "Client mode: gearman [options] [<data>...]\n\
                  Worker mode: gearman -w [options] [-- <command> [<args>...]]"
)]
struct Args {
    /// Function name (repeatable).
    #[arg(short = 'f', value_name = "FUNCTION")]
    functions: Vec<String>,
    /// Job server host (default localhost, or GEARMAN_SERVERS / GEARMAN_SERVER).
    #[arg(short = 'h', value_name = "HOST")]
    host: Option<String>,
    /// Job server port (default 4730).
    #[arg(short = 'p', value_name = "PORT", value_parser = parse_port)]
    port: Option<u16>,
    /// Timeout in milliseconds.
    #[arg(short = 't', value_name = "MS")]
    timeout: Option<u64>,
    /// Write a pid file.
    #[arg(short = 'i', value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Run in the background.
    #[arg(short = 'd')]
    daemon: bool,
    #[command(flatten)]
    tls: TlsArgs,
    /// Print extra information (client: "Task created: <handle>").
    #[arg(short = 'v')]
    verbose: bool,
    /// Print this help.
    #[arg(short = 'H')]
    help: bool,
    /// Client: run jobs in the background.
    #[arg(short = 'b')]
    background: bool,
    /// Client: high priority.
    #[arg(short = 'I')]
    high: bool,
    /// Client: low priority.
    #[arg(short = 'L')]
    low: bool,
    /// Client: one job per input line (the newline stays); worker: send each output line as data.
    #[arg(short = 'n')]
    lines: bool,
    /// Like -n, but strip the newline.
    #[arg(short = 'N')]
    lines_stripped: bool,
    /// Client: prefix each output with "<function>: ".
    #[arg(short = 'P')]
    prefix: bool,
    /// Client: send one job with an empty workload, without reading stdin.
    #[arg(short = 's')]
    no_stdin: bool,
    /// Client: unique key.
    #[arg(short = 'u', value_name = "UNIQUE")]
    unique: Option<String>,
    /// Worker mode.
    #[arg(short = 'w')]
    worker: bool,
    /// Worker: exit after this many jobs.
    #[arg(short = 'c', value_name = "COUNT")]
    count: Option<u64>,
    /// Client: workloads. Worker: the command (after --) to run for each job.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    let Some(args) = parse_args::<Args>(|a| a.help) else {
        return ExitCode::SUCCESS;
    };
    init_logging(args.verbose);
    match run(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("gearman: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, String> {
    if args.functions.is_empty() {
        return Err("no function given (use -f FUNCTION; -H for help)".into());
    }
    let tls = args.tls.connector()?;
    let servers = servers(args.host.as_deref(), args.port).map_err(|e| e.to_string())?;
    if args.daemon {
        daemonize().map_err(|e| format!("could not daemonize: {e}"))?;
    }
    if let Some(path) = &args.pid_file {
        write_pid_file(path).map_err(|e| format!("could not write {}: {e}", path.display()))?;
    }
    let timeout = args.timeout.map(Duration::from_millis);
    let result = if args.worker {
        run_worker(&args, servers, timeout, tls)
    } else {
        run_client(&args, servers, timeout, tls)
    };
    if let Some(path) = &args.pid_file {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Where client workloads come from.
fn workloads(args: &Args) -> Result<Box<dyn Iterator<Item = io::Result<Vec<u8>>>>, String> {
    if !args.rest.is_empty() {
        let items: Vec<io::Result<Vec<u8>>> = args
            .rest
            .iter()
            .map(|a| Ok(a.clone().into_bytes()))
            .collect();
        return Ok(Box::new(items.into_iter()));
    }
    if args.no_stdin {
        return Ok(Box::new(std::iter::once(Ok(Vec::new()))));
    }
    if args.lines || args.lines_stripped {
        let strip = args.lines_stripped;
        let mut stdin = io::stdin().lock();
        return Ok(Box::new(std::iter::from_fn(move || {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) => None,
                Ok(_) => {
                    if strip && line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    Some(Ok(line))
                }
                Err(e) => Some(Err(e)),
            }
        })));
    }
    let mut all = Vec::new();
    io::stdin()
        .read_to_end(&mut all)
        .map_err(|e| format!("could not read stdin: {e}"))?;
    Ok(Box::new(std::iter::once(Ok(all))))
}

struct InFlight {
    id: JobId,
    function: String,
    printed_data: usize,
}

fn run_client(
    args: &Args,
    servers: Vec<gearman_core::ServerAddr>,
    timeout: Option<Duration>,
    tls: Option<TlsConnector>,
) -> Result<ExitCode, String> {
    let options = ClientOptions {
        timeout,
        tls,
        ..ClientOptions::default()
    };
    let mut client = BlockingClient::new(options).map_err(|e| e.to_string())?;
    for server in servers {
        client.add_server(server);
    }
    let priority = match (args.high, args.low) {
        (true, _) => Priority::High,
        (_, true) => Priority::Low,
        _ => Priority::Normal,
    };
    let mut out = io::stdout().lock();
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut failed = false;
    for workload in workloads(args)? {
        let workload = Bytes::from(workload.map_err(|e| format!("could not read stdin: {e}"))?);
        for function in &args.functions {
            let mut request = JobRequest::new(function.clone(), workload.clone())
                .priority(priority)
                .background(args.background);
            if let Some(unique) = &args.unique {
                request = request.unique(unique.clone());
            }
            let id = client.submit(request).map_err(|e| e.to_string())?;
            in_flight.push_back(InFlight {
                id,
                function: function.clone(),
                printed_data: 0,
            });
            while in_flight.len() >= WINDOW {
                failed |= drain(args, &mut client, &mut in_flight, &mut out)?;
            }
        }
    }
    while !in_flight.is_empty() {
        failed |= drain(args, &mut client, &mut in_flight, &mut out)?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Handles one event, then prints whatever the oldest jobs have to show, in submission order.
/// Returns whether a job failed.
fn drain(
    args: &Args,
    client: &mut BlockingClient,
    in_flight: &mut VecDeque<InFlight>,
    out: &mut impl Write,
) -> Result<bool, String> {
    let event = client.next_event().map_err(|e| e.to_string())?;
    let mut failed = false;
    if let Some(event) = &event {
        let is_head = in_flight.front().is_some_and(|h| h.id == event.job);
        match &event.event {
            JobEvent::Created(handle) if args.verbose => {
                writeln!(out, "Task created: {}", String::from_utf8_lossy(handle))
                    .map_err(|e| e.to_string())?;
            }
            JobEvent::Status {
                numerator,
                denominator,
            } if is_head && *denominator > 0 => {
                writeln!(out, "{}% Complete", numerator * 100 / denominator)
                    .map_err(|e| e.to_string())?;
            }
            _ => {}
        }
    }
    while let Some(head) = in_flight.front_mut() {
        let Some(job) = client.job(head.id) else {
            in_flight.pop_front();
            continue;
        };
        let prefix = if args.prefix {
            format!("{}: ", head.function)
        } else {
            String::new()
        };
        for chunk in &job.data[head.printed_data..] {
            out.write_all(prefix.as_bytes())
                .and_then(|_| out.write_all(chunk))
                .map_err(|e| e.to_string())?;
        }
        head.printed_data = job.data.len();
        let Some(outcome) = job.outcome.clone() else {
            break;
        };
        match outcome {
            Outcome::Complete(result) => {
                out.write_all(prefix.as_bytes())
                    .and_then(|_| out.write_all(&result))
                    .map_err(|e| e.to_string())?;
            }
            Outcome::Queued => {}
            Outcome::Failed => {
                let _ = out.flush();
                eprintln!("Job failed");
                failed = true;
            }
            Outcome::Exception(data) => {
                let _ = out.flush();
                eprintln!("Job exception: {}", String::from_utf8_lossy(&data));
                failed = true;
            }
            Outcome::Error(e) => return Err(e.to_string()),
        }
        let id = head.id;
        client.take(id);
        in_flight.pop_front();
    }
    Ok(failed)
}

fn run_worker(
    args: &Args,
    servers: Vec<gearman_core::ServerAddr>,
    timeout: Option<Duration>,
    tls: Option<TlsConnector>,
) -> Result<ExitCode, String> {
    let options = WorkerOptions {
        timeout,
        tls,
        ..WorkerOptions::default()
    };
    let mut worker = BlockingWorker::new(options).map_err(|e| e.to_string())?;
    for server in servers {
        worker.add_server(server);
    }
    for function in &args.functions {
        worker
            .register(function.clone(), None)
            .map_err(|e| e.to_string())?;
    }
    let command = args.rest.clone();
    let data_lines = args.lines || args.lines_stripped;
    let strip = args.lines_stripped;
    worker
        .work(args.count, |job| {
            if command.is_empty() {
                let mut out = io::stdout().lock();
                let _ = out.write_all(&job.job().workload).and_then(|_| out.flush());
                return Ok(Bytes::new());
            }
            run_command(&command, job, data_lines, strip)
        })
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the worker's command with the workload on stdin; its stdout is the result.
fn run_command(
    command: &[String],
    job: &mut JobContext<'_>,
    data_lines: bool,
    strip: bool,
) -> Result<Bytes, JobFailure> {
    let spawned = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            eprintln!("gearman: could not run {:?}: {e}", command[0]);
            return Err(JobFailure::Fail);
        }
    };
    let workload = job.job().workload.clone();
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let output = std::thread::scope(|scope| {
        // A separate writer keeps a command that answers before reading all input from
        // deadlocking against us.
        scope.spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(&workload);
            }
            drop(stdin);
        });
        let mut result = Vec::new();
        if data_lines {
            let mut reader = io::BufReader::new(&mut stdout);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                if strip && line.last() == Some(&b'\n') {
                    line.pop();
                }
                let _ = job.send_data(&line);
                line.clear();
            }
        } else {
            let _ = stdout.read_to_end(&mut result);
        }
        result
    });
    match child.wait() {
        Ok(status) if status.success() => Ok(Bytes::from(output)),
        _ => Err(JobFailure::Fail),
    }
}
