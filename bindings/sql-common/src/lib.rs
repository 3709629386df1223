//! The Gearman side of the SQL functions (`gman_do` …) of MariaDB/MySQL (`bindings/mysql`) and
//! PostgreSQL (`bindings/postgres`): the server lists `gman_servers_set` sets ([`set_servers`]), and a
//! [`Caller`] whose every call is bounded by a timeout and stopped by a cancelled query.
//!
//! Both databases call from many threads (MariaDB) or processes (PostgreSQL) at once: the
//! lists are behind a lock, and each caller (a statement, a backend) owns its connections.

mod caller;
mod servers;

pub use caller::{CallError, Caller, Job, JobFailed, Limits};
pub use gearman_core::{JobId, Priority};
pub use servers::{servers_for, set_servers, ServersError};
