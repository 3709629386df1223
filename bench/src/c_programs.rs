//! The C programs of `bench/c/`, built against our libgearman or Debian's, and run; and the
//! Rust echo workers they are measured with.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn compile(ours: bool) -> PathBuf {
    compile_program("load", ours)
}

/// Builds `bench/c/PROGRAM.c` against our libgearman or Debian's.
pub fn compile_program(program: &str, ours: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let name = format!("{program}-{}", if ours { "ours" } else { "debian" });
    let out = gearman_testkit::temp_dir("c-bench").join(name);
    let mut gcc = Command::new("gcc");
    gcc.args(["-std=c99", "-O2", "-Wall", "-o"])
        .arg(&out)
        .arg(root.join(format!("bench/c/{program}.c")));
    if ours {
        // Our cdylib, freshly built with this benchmark's profile, under its soname.
        let lib = gearman_testkit::temp_dir("c-bench-lib");
        std::fs::copy(
            gearman_testkit::our_libgearman(),
            lib.join("libgearman.so.8"),
        )
        .unwrap();
        std::os::unix::fs::symlink("libgearman.so.8", lib.join("libgearman.so")).unwrap();
        gcc.arg(format!("-I{}", root.join("include").display()))
            .arg(format!("-L{}", lib.display()))
            .arg(format!("-Wl,-rpath,{}", lib.display()));
    }
    gcc.arg("-lgearman");
    assert!(gcc.status().unwrap().success(), "gcc failed");
    out
}

pub fn run(binary: &Path, port: u16, inflight: u32, jobs: u32) -> (f64, f64) {
    run_sized(binary, port, inflight, jobs, 10)
}

pub fn run_sized(binary: &Path, port: u16, inflight: u32, jobs: u32, bytes: usize) -> (f64, f64) {
    let out = Command::new(binary)
        .args([
            port.to_string(),
            inflight.to_string(),
            jobs.to_string(),
            bytes.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        binary.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().unwrap());
    (fields.next().unwrap(), fields.next().unwrap())
}

/// Starts `count` workers of `bench_echo` (returns the workload) at `addr`, on a runtime of
/// one thread that runs them until it is dropped.
pub fn echo_workers(addr: &str, count: usize) -> tokio::runtime::Runtime {
    use gearman_core::protocol::PacketType;
    use gearman_core::{Worker, WorkerOptions};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..count {
        let addr = addr.to_string();
        runtime.spawn(async move {
            let mut w = Worker::new(WorkerOptions::default());
            w.add_servers(&addr).unwrap();
            w.register("bench_echo", None).unwrap();
            while let Ok(job) = w.grab_job().await {
                let data = job.workload.clone();
                if w.queue(&job, PacketType::WorkComplete, &[&data]).is_err() {
                    return;
                }
            }
        });
    }
    runtime
}
