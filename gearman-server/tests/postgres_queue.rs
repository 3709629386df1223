//! `-q Postgres`: ours and Debian's gearmand share gearmand's PostgreSQL table, in both
//! directions; every acknowledged job survives `kill -9` of ours and PostgreSQL going away for a
//! while.

mod common;

use common::queue::{self, Database, Order};
use gearman_testkit::postgres::PostgresServer;

struct Postgres(PostgresServer);

impl Database for Postgres {
    fn queue_options(&self) -> Vec<String> {
        vec![
            "-q".into(),
            "Postgres".into(),
            format!("--libpq-conninfo={}", self.0.conninfo()),
        ]
    }

    fn stored(&self) -> usize {
        self.0.psql("SELECT count(*) FROM queue").parse().unwrap()
    }

    fn stop(&mut self) {
        self.0.stop();
    }

    fn restart(&mut self) {
        self.0.restart();
    }
}

fn postgres() -> Postgres {
    Postgres(PostgresServer::start())
}

/// With an epoch job: gearmand's own replay reads its time (and the priorities) wrongly.
#[test]
fn gearmands_postgres_jobs_run_on_ours() {
    queue::gearmands_jobs_run_on_ours(&postgres(), &["plain"], true, Order::Fifo);
}

/// gearmand's replay reads the priorities as binary numbers: its order is not checked.
#[test]
fn ours_postgres_jobs_run_on_gearmand() {
    queue::ours_jobs_run_on_gearmand(&postgres(), Order::None);
}

#[test]
fn acknowledged_jobs_survive_kill_9_cycles() {
    queue::acknowledged_jobs_survive_kill_9_cycles(&postgres());
}

#[test]
fn postgres_going_away_loses_no_acknowledged_job() {
    queue::database_going_away_loses_no_acknowledged_job(&mut postgres());
}

#[test]
fn unreachable_postgres_at_start_is_a_clear_error() {
    let closed = gearman_testkit::closed_port();
    let options = [
        "-q".into(),
        "Postgres".into(),
        format!(
            "--libpq-conninfo=host=127.0.0.1 port={} user=x",
            closed.port
        ),
    ];
    queue::unreachable_at_start_is_a_clear_error(&options, "postgres queue 127.0.0.1");
}
