//! gearman-core: one implementation of the Gearman protocol for every front end.
//!
//! - [`protocol`]: the packet table, encoder and incremental decoder (pure, no I/O);
//! - [`message`]: typed requests and responses, decoded from packets once (pure, no I/O);
//! - [`admin`]: the text admin protocol's commands and replies;
//! - [`connection`]: TCP connections with TCP_NODELAY, timeouts and back-off;
//! - [`tls`]: TLS for those connections, with rustls;
//! - [`client`], [`worker`], [`admin_client`]: async, on tokio, spawning no tasks;
//! - [`libgearman`]: libgearman 1.1's client/worker/task model, shared by the C ABI and PHP;
//! - [`blocking`]: blocking facades that start no threads (safe to create after `fork()`),
//!   driven by [`poll_driver`] without a runtime.
//!
//! ```no_run
//! use gearman_core::{blocking::BlockingClient, ClientOptions, JobRequest};
//! let mut client = BlockingClient::new(ClientOptions::default())?;
//! client.add_servers("127.0.0.1:4730")?;
//! let result = client.run(JobRequest::new("reverse", "hello"))?;
//! println!("{:?}", result.result());
//! # Ok::<(), gearman_core::Error>(())
//! ```

pub mod admin;
pub mod admin_client;
pub mod blocking;
pub mod client;
pub mod connection;
pub mod error;
pub mod job;
pub mod libgearman;
pub mod message;
pub mod poll_driver;
pub mod protocol;
pub mod return_code;
pub mod server_list;
pub mod tls;
pub mod worker;

pub use admin_client::AdminClient;
pub use client::{Client, ClientOptions, Event, JobEvent, JobId};
pub use connection::{ServerAddr, DEFAULT_PORT};
pub use error::Error;
pub use job::{JobRequest, JobResult, JobStatus, Outcome, Priority};
pub use tls::{TlsConnector, TlsOptions};
pub use worker::{AssignedJob, GrabMode, Worker, WorkerOptions};

/// Longest function name a client library accepts (`GEARMAN_FUNCTION_MAX_SIZE`).
pub const FUNCTION_MAX_SIZE: usize = 512;
/// The version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
