//! Our libgearman against Debian's: the same C load program (bench/c/load.c) built against each
//! library, run against the same server (our gearmand) with the same Rust echo workers, printing
//! jobs/s and the client process's CPU time per job.
//!
//! `cargo run --release -p gearman-bench --bin c-client-bench` (it builds our libgearman itself)

use std::process::Command;

use gearman_testkit::Kind;

mod c_programs;
use c_programs::{compile, compile_program, run, run_sized};

/// The median jobs/s and the median CPU per job of several runs.
fn medians(runs: Vec<(f64, f64)>) -> (f64, f64) {
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    (
        median(runs.iter().map(|r| r.0).collect()),
        median(runs.iter().map(|r| r.1).collect()),
    )
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // Each library runs `rounds` times, alternating, and the medians are reported: the client,
    // the server and the workers share two cores, so single runs are noisy.
    let (single, many, rounds) = if quick {
        (2_000, 20_000, 1)
    } else {
        (5_000, 50_000, 5)
    };
    let ours = compile(true);
    let theirs = compile(false);
    let server = Kind::Ours.start();
    let addr = server.addr();
    let runtime = c_programs::echo_workers(&addr, 4);
    println!(
        "\nC client library benchmark: bench/c/load.c built against each libgearman, same server"
    );
    println!(
        "{:<34} {:>14} {:>14} {:>14} {:>14} {:>10}",
        "in flight", "libgearman j/s", "ours j/s", "libgearman µs", "ours µs", "CPU ratio"
    );
    for (inflight, jobs) in [(1, single), (100, many)] {
        let (mut theirs_runs, mut ours_runs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            theirs_runs.push(run(&theirs, server.port, inflight, jobs));
            ours_runs.push(run(&ours, server.port, inflight, jobs));
        }
        let ((t_rate, t_cpu), (o_rate, o_cpu)) = (medians(theirs_runs), medians(ours_runs));
        println!(
            "{:<34} {:>14.0} {:>14.0} {:>14.1} {:>14.1} {:>9.2}x",
            format!("{inflight} ({jobs} jobs, median of {rounds})"),
            t_rate,
            o_rate,
            t_cpu,
            o_cpu,
            o_cpu / t_cpu
        );
    }
    println!("(µs = client CPU time, user + sys, per job; CPU ratio = ours / libgearman, lower is better)");
    drop(runtime);
    drop(server);
    task_api_on_debian(many, rounds);
}

/// The task API as issue #12 measures it: Debian's gearmand, four libgearman workers
/// (bench/c/echo_worker.c), 64-byte payloads, 100 tasks in flight with FREE_TASKS.
fn task_api_on_debian(jobs: u32, rounds: u32) {
    let (ours, theirs) = (compile(true), compile(false));
    let worker = compile_program("echo_worker", false);
    let server = Kind::Debian.start();
    let _workers: Vec<gearman_testkit::ChildGuard> = (0..4)
        .map(|_| {
            gearman_testkit::ChildGuard::spawn(Command::new(&worker).arg(server.port.to_string()))
        })
        .collect();
    assert!(
        gearman_testkit::wait_until(std::time::Duration::from_secs(10), || {
            gearman_testkit::admin(server.port, "status")
                .lines()
                .any(|l| l.starts_with("bench_echo\t") && l.ends_with("\t4"))
        }),
        "the libgearman workers did not register"
    );
    let (mut theirs_runs, mut ours_runs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        theirs_runs.push(run_sized(&theirs, server.port, 100, jobs, 64));
        ours_runs.push(run_sized(&ours, server.port, 100, jobs, 64));
    }
    let ((t_rate, t_cpu), (o_rate, o_cpu)) = (medians(theirs_runs), medians(ours_runs));
    println!("\nTask API: Debian's gearmand, 4 libgearman workers, 64-byte payloads, FREE_TASKS");
    println!(
        "{:<34} {:>14.0} {:>14.0} {:>14.1} {:>14.1} {:>9.2}x",
        format!("100 ({jobs} jobs, median of {rounds})"),
        t_rate,
        o_rate,
        t_cpu,
        o_cpu,
        o_cpu / t_cpu
    );
}
