//! `-q MySQL` (on MariaDB): ours and Debian's gearmand share gearmand's MySQL table, in both
//! directions; every acknowledged job survives `kill -9` of ours and the database going away for
//! a while.

mod common;

use common::queue::{self, Database, Order};
use gearman_testkit::mariadb::MariadbServer;

struct Mariadb(MariadbServer);

impl Database for Mariadb {
    fn queue_options(&self) -> Vec<String> {
        vec![
            "-q".into(),
            "MySQL".into(),
            "--mysql-host=127.0.0.1".into(),
            format!("--mysql-port={}", self.0.port),
            "--mysql-user=gearman".into(),
            "--mysql-db=gearman".into(),
        ]
    }

    fn stored(&self) -> usize {
        self.0
            .sql("SELECT count(*) FROM gearman.gearman_queue")
            .parse()
            .unwrap()
    }

    fn stop(&mut self) {
        self.0.stop();
    }

    fn restart(&mut self) {
        self.0.restart();
    }
}

fn mariadb() -> Mariadb {
    Mariadb(MariadbServer::start())
}

#[test]
fn gearmands_mysql_jobs_run_on_ours() {
    queue::gearmands_jobs_run_on_ours(&mariadb(), &["plain"], true, Order::Fifo);
}

#[test]
fn ours_mysql_jobs_run_on_gearmand() {
    queue::ours_jobs_run_on_gearmand(&mariadb(), Order::Fifo);
}

#[test]
fn acknowledged_jobs_survive_kill_9_cycles() {
    queue::acknowledged_jobs_survive_kill_9_cycles(&mariadb());
}

#[test]
fn mysql_going_away_loses_no_acknowledged_job() {
    queue::database_going_away_loses_no_acknowledged_job(&mut mariadb());
}

#[test]
fn unreachable_mysql_at_start_is_a_clear_error() {
    let closed = gearman_testkit::closed_port();
    let options = [
        "-q".into(),
        "MySQL".into(),
        "--mysql-host=127.0.0.1".into(),
        format!("--mysql-port={}", closed.port),
    ];
    queue::unreachable_at_start_is_a_clear_error(&options, "mysql queue 127.0.0.1");
}
