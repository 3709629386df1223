//! What bounds a durable queue on this machine: our engine and store thread run in a server
//! process of their own (one current-thread runtime and the store thread, as our gearmand runs
//! them) with stores that each do part of the work, under the same load and alternating, so that the differences between
//! rows are the costs of that part:
//! - in memory: no store;
//! - store thread, no I/O: every job handed to the store thread and answered after it, nothing
//!   written;
//! - SQLite on tmpfs: gearmand's table written, no flush costs anything;
//! - log + fdatasync: the least any durable store does, each batch appended to a file on the disk
//!   and flushed, no database;
//! - log, 2 or 4 flushes at once: the same with a batch's flush begun while others still run;
//! - SQLite: gearmand's table on the disk, as `-q libsqlite3` runs it.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use gearman_server::engine::{Engine, EngineConfig};
use gearman_server::output::FlushOnDrop;
use gearman_server::server::{self, Limits, Stop};
use gearman_server::store::{self, Backend, SqliteStore, StoreOp, StoredJob};
use tokio::sync::watch;

use crate::load::{client, median, pipelined};

/// A store that writes nothing.
struct NoIo;

impl Backend for NoIo {
    fn name(&self) -> String {
        "no I/O".into()
    }

    fn load(&mut self) -> Result<Vec<StoredJob>, String> {
        Ok(Vec::new())
    }

    fn write(&mut self, _ops: &[StoreOp]) -> Result<(), String> {
        Ok(())
    }
}

/// A store that appends each batch to a file and flushes it: all a durable store must do.
struct SyncedLog {
    file: File,
    buffer: Vec<u8>,
}

impl Backend for SyncedLog {
    fn name(&self) -> String {
        "log + fdatasync".into()
    }

    fn load(&mut self) -> Result<Vec<StoredJob>, String> {
        Ok(Vec::new())
    }

    fn write(&mut self, ops: &[StoreOp]) -> Result<(), String> {
        self.buffer.clear();
        for op in ops {
            let fields: [&[u8]; 3] = match op {
                StoreOp::Insert { job, .. } => [&job.function, &job.unique, &job.data],
                StoreOp::Delete { function, unique } => [function, unique, b""],
            };
            for field in fields {
                self.buffer
                    .extend_from_slice(&(field.len() as u32).to_le_bytes());
                self.buffer.extend_from_slice(field);
            }
        }
        self.file
            .write_all(&self.buffer)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| e.to_string())
    }
}

/// The log store again, but with `flushers` files, each written and flushed on its own thread:
/// the jobs waiting are handed as one batch to the first thread free, so a batch's flush need
/// not wait for the one before it to end. Returns the sender the engine uses.
fn spawn_overlapped_log(dir: &Path, flushers: usize) -> Sender<StoreOp> {
    let (ops_tx, ops) = std::sync::mpsc::channel::<StoreOp>();
    let (idle_tx, idle) = std::sync::mpsc::channel::<usize>();
    let batches: Vec<Sender<Vec<StoreOp>>> = (0..flushers)
        .map(|id| {
            let (tx, rx) = std::sync::mpsc::channel::<Vec<StoreOp>>();
            let mut log = SyncedLog {
                file: File::create(dir.join(format!("queue-{id}.log"))).expect("create the log"),
                buffer: Vec::new(),
            };
            let idle_tx = idle_tx.clone();
            idle_tx.send(id).expect("the dispatcher is there");
            std::thread::spawn(move || {
                for batch in rx {
                    let flush = FlushOnDrop;
                    let written = log.write(&batch);
                    for op in batch {
                        if let StoreOp::Insert { ack: Some(ack), .. } = op {
                            ack.answer("log", &written);
                        }
                    }
                    drop(flush);
                    if idle_tx.send(id).is_err() {
                        return;
                    }
                }
            });
            tx
        })
        .collect();
    std::thread::spawn(move || {
        while let Ok(first) = ops.recv() {
            let Ok(free) = idle.recv() else { return };
            let mut batch = vec![first];
            batch.extend(ops.try_iter());
            if batches[free].send(batch).is_err() {
                return;
            }
        }
    });
    ops_tx
}

/// What the server keeps its background jobs in.
enum Store {
    Memory,
    Thread(Box<dyn Backend>),
    Overlapped(Sender<StoreOp>),
}

/// Our server, in a child process of this benchmark as our gearmand runs (the child runs
/// [`serve`]); killed by PID when dropped.
struct StoreServer {
    addr: String,
    _child: gearman_testkit::ChildGuard,
}

impl StoreServer {
    fn start(row: usize, disk: &Path, tmpfs: &Path) -> StoreServer {
        let mut command = std::process::Command::new(std::env::current_exe().expect("exe"));
        command
            .arg(SERVE_FLAG)
            .arg(row.to_string())
            .arg(disk)
            .arg(tmpfs)
            .stdout(std::process::Stdio::piped());
        let mut child = gearman_testkit::ChildGuard::spawn(&mut command);
        let stdout = child.0.stdout.take().expect("the child's stdout");
        let mut addr = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut addr)
            .expect("the child's address");
        StoreServer {
            addr: addr.trim().to_string(),
            _child: child,
        }
    }
}

/// The argument that makes this benchmark the server of one row: `--serve-store ROW DISK TMPFS`.
pub const SERVE_FLAG: &str = "--serve-store";

/// The child's part: our server with row `args[0]`'s store (files in the directories `args[1]`
/// on the disk and `args[2]` on tmpfs), its address printed on the first line of stdout; runs
/// until killed. One current-thread runtime and the store thread, as our gearmand runs.
pub fn serve(args: &[String]) {
    let [row, disk, tmpfs] = args else {
        panic!("{SERVE_FLAG} ROW DISK TMPFS")
    };
    let row: usize = row.parse().expect("row number");
    let store = store_for(ROWS[row], Path::new(disk), Path::new(tmpfs));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut engine = Engine::new(EngineConfig::default());
        match store {
            Store::Memory => {}
            Store::Thread(backend) => {
                engine.set_store(store::spawn(backend, store::CommitTimes::default()))
            }
            Store::Overlapped(sender) => engine.set_store(sender),
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("{}", listener.local_addr().expect("address"));
        let (stop, _) = watch::channel(Stop::Running);
        let engine = Arc::new(std::sync::Mutex::new(engine));
        server::run(vec![listener], Vec::new(), engine, Limits::default(), stop).await;
    });
}

const ROWS: [&str; 7] = [
    "in memory",
    "store thread, no I/O",
    "SQLite on tmpfs",
    "log + fdatasync",
    "log, 2 flushes at once",
    "log, 4 flushes at once",
    "SQLite",
];

fn store_for(row: &str, disk: &Path, tmpfs: &Path) -> Store {
    let sqlite = |dir: &Path| -> Box<dyn Backend> {
        Box::new(SqliteStore::open(&dir.join("queue.db"), "gearman_queue").expect("open SQLite"))
    };
    match row {
        "store thread, no I/O" => Store::Thread(Box::new(NoIo)),
        "SQLite on tmpfs" => Store::Thread(sqlite(tmpfs)),
        "log + fdatasync" => Store::Thread(Box::new(SyncedLog {
            file: File::create(disk.join("queue.log")).expect("create the log"),
            buffer: Vec::new(),
        })),
        "log, 2 flushes at once" => Store::Overlapped(spawn_overlapped_log(disk, 2)),
        "log, 4 flushes at once" => Store::Overlapped(spawn_overlapped_log(disk, 4)),
        "SQLite" => Store::Thread(sqlite(disk)),
        _ => Store::Memory,
    }
}

/// The time to append 2 KiB (a batch of about 50 jobs) to `file` and `fdatasync` it, median of
/// 200.
fn flush_micros(path: &Path) -> f64 {
    let mut file = File::create(path).expect("create the probe file");
    let batch = [0u8; 2048];
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let started = std::time::Instant::now();
            file.write_all(&batch)
                .and_then(|()| file.sync_data())
                .expect("write and flush the probe file");
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    median(&mut times)
}

/// [`flush_micros`] for one file alone, then for two files flushed at the same time (each
/// file's median, averaged).
fn flush_alone_and_paired(dir: &Path) -> (f64, f64) {
    let alone = flush_micros(&dir.join("alone"));
    let paired = std::thread::scope(|s| {
        let pair = ["one", "two"].map(|name| s.spawn(move || flush_micros(&dir.join(name))));
        pair.map(|t| t.join().expect("probe thread"))
            .iter()
            .sum::<f64>()
            / 2.0
    });
    (alone, paired)
}

/// `--queue-bound`: each row's background submits/s with 100 in flight, median of `rounds`
/// rounds that take the rows in turn, and its share of the in-memory rate; then how long the
/// disk takes to flush, alone and with two flushes at once.
pub fn run(runtime: &tokio::runtime::Runtime, tmpfs_root: &Path, rounds: usize, jobs: usize) {
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); ROWS.len()];
    let (mut alone, mut paired) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let probe = gearman_testkit::temp_dir("bench-flush");
        let (one, two) = flush_alone_and_paired(&probe);
        alone.push(one);
        paired.push(two);
        let _ = std::fs::remove_dir_all(probe);
        for (index, rates) in rates.iter_mut().enumerate() {
            let disk = gearman_testkit::temp_dir("bench-bound");
            let tmpfs = gearman_testkit::temp_dir_in(tmpfs_root, "bench-bound");
            let server = StoreServer::start(index, &disk, &tmpfs);
            rates.push(runtime.block_on(async {
                let mut c = client(&server.addr).await;
                pipelined(&mut c, "warm", 200, 100, true).await;
                pipelined(&mut c, "durable", jobs, 100, true).await
            }));
            drop(server);
            let _ = std::fs::remove_dir_all(disk);
            let _ = std::fs::remove_dir_all(tmpfs);
        }
    }
    let medians: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
    println!(
        "\nWhat bounds a durable queue here: background submits/s, 100 in flight, our engine with \
         each store, median of {rounds} alternating rounds"
    );
    println!("{:<22} {:>12} {:>16}", "store", "submits/s", "of in memory");
    for (row, rate) in ROWS.iter().zip(&medians) {
        println!(
            "{row:<22} {rate:>12.0} {:>15.0}%",
            100.0 * rate / medians[0]
        );
    }
    println!(
        "append 2 KiB + fdatasync on this disk: {:.0} µs alone, {:.0} µs each with two at once \
         (medians)",
        median(&mut alone),
        median(&mut paired)
    );
}
