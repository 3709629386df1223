//! What bounds a durable queue on this machine. Our engine and store thread run as a server
//! process of their own (one current-thread runtime and the store thread, as our gearmand runs
//! them), each time with a store that does part of a durable queue's work ([`Row`]), under the
//! same load, the rows taken in turn; the differences between rows are the costs of the parts.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use gearman_server::engine::{Engine, EngineConfig};
use gearman_server::output::FlushOnDrop;
use gearman_server::server::{self, Limits, Stop};
use gearman_server::store::sqlite::fill_with_zeros;
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

/// A plain log: each batch written to a file and flushed, no database.
struct SyncedLog {
    file: File,
    buffer: Vec<u8>,
    /// Where the next batch goes in a log written in advance, which it overwrites from the
    /// start again when full; None: appended.
    overwrite_at: Option<u64>,
}

impl SyncedLog {
    /// A log in `path`, appended to.
    fn appending(path: &Path) -> SyncedLog {
        SyncedLog {
            file: File::create(path).expect("create the log"),
            buffer: Vec::new(),
            overwrite_at: None,
        }
    }

    /// A log in `path` written in advance with [`PREWRITTEN_LOG_BYTES`] of zeros and flushed,
    /// so that a batch's flush carries no change of the file's size or blocks.
    fn overwriting(path: &Path) -> SyncedLog {
        let file = File::create(path).expect("create the log");
        fill_with_zeros(&file, PREWRITTEN_LOG_BYTES).expect("write the log in advance");
        SyncedLog {
            file,
            buffer: Vec::new(),
            overwrite_at: Some(0),
        }
    }
}

/// The size of an [`SyncedLog::overwriting`] log.
const PREWRITTEN_LOG_BYTES: u64 = 64 << 20;

impl Backend for SyncedLog {
    fn name(&self) -> String {
        "log".into()
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
        let written = match &mut self.overwrite_at {
            None => self.file.write_all(&self.buffer),
            Some(at) => {
                if *at + self.buffer.len() as u64 > PREWRITTEN_LOG_BYTES {
                    *at = 0;
                }
                let written = self.file.write_all_at(&self.buffer, *at);
                *at += self.buffer.len() as u64;
                written
            }
        };
        written
            .and_then(|()| self.file.sync_data())
            .map_err(|e| e.to_string())
    }
}

/// The appended log again, but with `count` files, each written and flushed on its own thread:
/// the jobs waiting are handed as one batch to the first thread free, so a batch's flush need
/// not wait for the one before it to end. Returns the sender the engine uses.
fn spawn_overlapped_log(dir: &Path, count: usize) -> Sender<StoreOp> {
    let (ops_tx, ops) = std::sync::mpsc::channel::<StoreOp>();
    let (idle_tx, idle) = std::sync::mpsc::channel::<usize>();
    let flushers: Vec<Sender<Vec<StoreOp>>> = (0..count)
        .map(|id| {
            let (tx, rx) = std::sync::mpsc::channel::<Vec<StoreOp>>();
            let mut log = SyncedLog::appending(&dir.join(format!("queue-{id}.log")));
            let idle_tx = idle_tx.clone();
            idle_tx.send(id).expect("the dispatcher is there");
            std::thread::spawn(move || {
                for batch in rx {
                    // The answers go out when it drops, as in the store thread.
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
            if flushers[free].send(batch).is_err() {
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
    fn start(row: Row, disk: &Path, tmpfs: &Path) -> StoreServer {
        let mut command = std::process::Command::new(std::env::current_exe().expect("exe"));
        command
            .arg(SERVE_FLAG)
            .arg((row as usize).to_string())
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
    let row = row
        .parse::<usize>()
        .ok()
        .and_then(|i| Row::ALL.get(i))
        .expect("row number");
    let store = row.store(Path::new(disk), Path::new(tmpfs));
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

/// A store of the benchmark: what part of a durable queue's work it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    /// No store.
    Memory,
    /// Every job handed to the store thread and answered after it, nothing written.
    NothingWritten,
    /// gearmand's table written, on tmpfs (no flush costs anything).
    SqliteTmpfs,
    /// Each batch appended to a file on the disk and flushed, no database.
    Log,
    /// The same, but overwriting a file written in advance.
    PrewrittenLog,
    /// Appended logs, each batch flushed on the first of 2 threads free.
    Log2Flushers,
    /// The same with 4 threads.
    Log4Flushers,
    /// gearmand's table on the disk, as `-q libsqlite3` runs it.
    Sqlite,
}

impl Row {
    const ALL: [Row; 8] = [
        Row::Memory,
        Row::NothingWritten,
        Row::SqliteTmpfs,
        Row::Log,
        Row::PrewrittenLog,
        Row::Log2Flushers,
        Row::Log4Flushers,
        Row::Sqlite,
    ];

    fn label(self) -> &'static str {
        match self {
            Row::Memory => "in memory",
            Row::NothingWritten => "store thread, no I/O",
            Row::SqliteTmpfs => "SQLite on tmpfs",
            Row::Log => "log + fdatasync",
            Row::PrewrittenLog => "log, overwritten",
            Row::Log2Flushers => "log, 2 flushes at once",
            Row::Log4Flushers => "log, 4 flushes at once",
            Row::Sqlite => "SQLite",
        }
    }

    /// This row's store, its files in `disk` or `tmpfs`.
    fn store(self, disk: &Path, tmpfs: &Path) -> Store {
        let sqlite = |dir: &Path| -> Box<dyn Backend> {
            Box::new(
                SqliteStore::open(&dir.join("queue.db"), "gearman_queue").expect("open SQLite"),
            )
        };
        match self {
            Row::Memory => Store::Memory,
            Row::NothingWritten => Store::Thread(Box::new(NoIo)),
            Row::SqliteTmpfs => Store::Thread(sqlite(tmpfs)),
            Row::Log => Store::Thread(Box::new(SyncedLog::appending(&disk.join("queue.log")))),
            Row::PrewrittenLog => {
                Store::Thread(Box::new(SyncedLog::overwriting(&disk.join("queue.log"))))
            }
            Row::Log2Flushers => Store::Overlapped(spawn_overlapped_log(disk, 2)),
            Row::Log4Flushers => Store::Overlapped(spawn_overlapped_log(disk, 4)),
            Row::Sqlite => Store::Thread(sqlite(disk)),
        }
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

/// `--queue-bound`: each row's background submits/s with 100 in flight (`BENCH_IN_FLIGHT`
/// sets another number, to see which rows the flush's latency bounds), median of `rounds`
/// rounds that take the rows in turn (each round starting one row later, so that no row always
/// follows the same one), and its share of the in-memory rate; then how long the disk takes to
/// flush, alone and with two flushes at once. Files go in the temporary directory (the disk)
/// and under `tmpfs_root`.
pub fn run(runtime: &tokio::runtime::Runtime, tmpfs_root: &Path, rounds: usize, jobs: usize) {
    // BENCH_ROWS="SQLite;log + fdatasync" measures only those rows (and in memory, the base).
    let only = std::env::var("BENCH_ROWS").unwrap_or_default();
    let chosen = |row: Row| {
        row == Row::Memory || only.is_empty() || only.split(';').any(|l| l == row.label())
    };
    let has_tmpfs = tmpfs_root.is_dir();
    let rows: Vec<Row> = Row::ALL
        .into_iter()
        .filter(|&row| row != Row::SqliteTmpfs || has_tmpfs)
        .filter(|&row| chosen(row))
        .collect();
    let in_flight: usize = std::env::var("BENCH_IN_FLIGHT")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(100);
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let (mut alone, mut paired) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let probe = gearman_testkit::temp_dir("bench-flush");
        let (one, two) = flush_alone_and_paired(&probe);
        alone.push(one);
        paired.push(two);
        let _ = std::fs::remove_dir_all(probe);
        for i in 0..rows.len() {
            let index = (round + i) % rows.len();
            let disk = gearman_testkit::temp_dir("bench-bound");
            let tmpfs = if has_tmpfs {
                gearman_testkit::temp_dir_in(tmpfs_root, "bench-bound")
            } else {
                disk.clone()
            };
            let server = StoreServer::start(rows[index], &disk, &tmpfs);
            let rate = runtime.block_on(async {
                let mut c = client(&server.addr).await;
                pipelined(&mut c, "warm", 200, in_flight, true).await;
                pipelined(&mut c, "durable", jobs, in_flight, true).await
            });
            rates[index].push(rate);
            drop(server);
            let _ = std::fs::remove_dir_all(disk);
            let _ = std::fs::remove_dir_all(tmpfs);
        }
    }
    let medians: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
    println!(
        "\nWhat bounds a durable queue here: background submits/s, {in_flight} in flight, our engine with \
         each store, median of {rounds} rounds"
    );
    println!("{:<22} {:>12} {:>16}", "store", "submits/s", "of in memory");
    for (row, rate) in rows.iter().zip(&medians) {
        println!(
            "{:<22} {rate:>12.0} {:>15.0}%",
            row.label(),
            100.0 * rate / medians[0]
        );
    }
    println!(
        "append 2 KiB + fdatasync in {}: {:.0} µs alone, {:.0} µs each with two at once (medians)",
        std::env::temp_dir().display(),
        median(&mut alone),
        median(&mut paired)
    );
}
