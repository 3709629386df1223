//! `gearadmin`: run text admin commands against a job server, printing what the C tool prints.
//!
//! One difference from the C tool, on purpose: an `ERR` reply exits with status 1 (the C tool
//! exits 0), so scripts can tell.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use gearman_cli::{init_logging, parse_args, parse_port, TlsArgs};
use gearman_core::blocking::BlockingAdminClient;
use gearman_core::{Error, ServerAddr};

#[derive(Parser, Debug)]
#[command(
    name = "gearadmin",
    disable_help_flag = true,
    disable_version_flag = true
)]
struct Args {
    /// Job server host.
    #[arg(short = 'h', long = "host", default_value = "localhost")]
    host: String,
    /// Job server port (number or service name).
    #[arg(short = 'p', long = "port", default_value = "4730", value_parser = parse_port)]
    port: u16,
    #[command(flatten)]
    tls: TlsArgs,
    /// Print this help.
    #[arg(long = "help")]
    help: bool,
    /// Server version.
    #[arg(long = "server-version")]
    server_version: bool,
    /// Server verbose level.
    #[arg(long = "server-verbose")]
    server_verbose: bool,
    /// Status of all functions.
    #[arg(long = "status")]
    status: bool,
    /// Queued jobs per priority for all functions.
    #[arg(long = "priority-status")]
    priority_status: bool,
    /// Connected workers and clients.
    #[arg(long = "workers")]
    workers: bool,
    /// Server process id.
    #[arg(long = "getpid")]
    getpid: bool,
    /// All jobs on the server.
    #[arg(long = "show-jobs")]
    show_jobs: bool,
    /// All unique ids on the server.
    #[arg(long = "show-unique-jobs")]
    show_unique_jobs: bool,
    /// Cancel a job by handle.
    #[arg(long = "cancel-job", value_name = "HANDLE")]
    cancel_job: Option<String>,
    /// Create a function.
    #[arg(long = "create-function", value_name = "FUNCTION")]
    create_function: Option<String>,
    /// Drop a function.
    #[arg(long = "drop-function", value_name = "FUNCTION")]
    drop_function: Option<String>,
}

enum Reply {
    Value,
    Listing,
    Ok,
}

fn main() -> ExitCode {
    let Some(args) = parse_args::<Args>(|a| a.help) else {
        return ExitCode::SUCCESS;
    };
    use clap::CommandFactory;
    init_logging(false);
    let mut commands: Vec<(String, Reply)> = Vec::new();
    if args.server_version {
        commands.push(("version".into(), Reply::Value));
    }
    if args.server_verbose {
        commands.push(("verbose".into(), Reply::Value));
    }
    if args.status {
        commands.push(("status".into(), Reply::Listing));
    }
    if args.priority_status {
        commands.push(("prioritystatus".into(), Reply::Listing));
    }
    if args.workers {
        commands.push(("workers".into(), Reply::Listing));
    }
    if args.getpid {
        commands.push(("getpid".into(), Reply::Value));
    }
    if args.show_jobs {
        commands.push(("show jobs".into(), Reply::Listing));
    }
    if args.show_unique_jobs {
        commands.push(("show unique jobs".into(), Reply::Listing));
    }
    if let Some(h) = &args.cancel_job {
        commands.push((format!("cancel job {h}"), Reply::Ok));
    }
    if let Some(f) = &args.create_function {
        commands.push((format!("create function {f}"), Reply::Ok));
    }
    if let Some(f) = &args.drop_function {
        commands.push((format!("drop function {f}"), Reply::Ok));
    }
    if commands.is_empty() {
        eprintln!("No option execution operation given.");
        let _ = Args::command().print_help();
        return ExitCode::from(1);
    }
    let tls = match args.tls.connector() {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("gearadmin: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = ServerAddr::new(args.host.clone(), args.port);
    let mut admin =
        match BlockingAdminClient::connect_with(&addr, Duration::from_secs(10), tls.as_ref()) {
            Ok(admin) => admin,
            Err(e) => {
                eprintln!("gearadmin: {e}");
                return ExitCode::from(1);
            }
        };
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for (line, kind) in commands {
        if line.split(' ').any(str::is_empty) {
            eprintln!("gearadmin: argument of {line:?} must not be empty or contain spaces");
            return ExitCode::from(1);
        }
        let result = match kind {
            Reply::Listing => admin.call(|a| a.listing(&line)).map(|lines| {
                for l in lines {
                    let _ = writeln!(out, "{l}");
                }
                let _ = writeln!(out, ".");
            }),
            Reply::Value => admin.call(|a| a.command(&line)).map(|v| {
                let _ = writeln!(out, "{v}");
            }),
            Reply::Ok => admin.call(|a| a.command(&line)).map(|_| {
                let _ = writeln!(out, "OK");
            }),
        };
        match result {
            Ok(()) => {}
            Err(Error::Admin { code, text }) => {
                let _ = out.flush();
                if text.is_empty() {
                    eprintln!("Error: {code}");
                } else {
                    eprintln!("Error: {code} {text}");
                }
                failed = true;
            }
            Err(e) => {
                let _ = out.flush();
                eprintln!("gearadmin: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
