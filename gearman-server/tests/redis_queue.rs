//! `-q redis`: ours and Debian's gearmand share gearmand's Redis keys, in both directions; every
//! acknowledged job survives `kill -9` of ours and Redis going away for a while.

mod common;

use common::queue::{self, Database, Order};
use gearman_testkit::redis::RedisServer;

struct Redis(RedisServer);

impl Database for Redis {
    fn queue_options(&self) -> Vec<String> {
        vec![
            "-q".into(),
            "redis".into(),
            "--redis-server=127.0.0.1".into(),
            format!("--redis-port={}", self.0.port),
        ]
    }

    /// Jobs as gearmand keys them (ours also keep a side hash each).
    fn stored(&self) -> usize {
        self.0.count_keys(b"_gear_-*")
    }

    fn stop(&mut self) {
        self.0.stop();
    }

    fn restart(&mut self) {
        self.0.restart();
    }
}

fn redis() -> Redis {
    Redis(RedisServer::start())
}

/// gearmand refuses epoch jobs on Redis, and its keys keep no order within a priority. A function name with a `-`: gearmand's own replay cuts
/// it short; ours reads it whole, since the unique is a UUID.
#[test]
fn gearmands_redis_jobs_run_on_ours() {
    queue::gearmands_jobs_run_on_ours(
        &redis(),
        &["resize-image", "plain"],
        false,
        Order::Priorities,
    );
}

/// gearmand deletes the jobs it ran but not our side hashes, which it does not know of: ours
/// removes those it finds without a job when it starts.
#[test]
fn ours_redis_jobs_run_on_gearmand() {
    let db = redis();
    queue::ours_jobs_run_on_gearmand(&db, Order::Priorities);
    assert_eq!(db.stored(), 0);
    assert!(db.0.dbsize() > 0, "our side hashes are left by gearmand");
    let ours = gearman_testkit::Server::ours_with(&queue::as_strs(&db.queue_options()));
    assert_eq!(gearman_testkit::admin(ours.port, "status"), ".\n");
    assert_eq!(db.0.dbsize(), 0);
}

#[test]
fn acknowledged_jobs_survive_kill_9_cycles() {
    queue::acknowledged_jobs_survive_kill_9_cycles(&redis());
}

#[test]
fn redis_going_away_loses_no_acknowledged_job() {
    queue::database_going_away_loses_no_acknowledged_job(&mut redis());
}

#[test]
fn unreachable_redis_at_start_is_a_clear_error() {
    let closed = gearman_testkit::closed_port();
    let options = [
        "-q".into(),
        "redis".into(),
        format!("--redis-port={}", closed.port),
    ];
    queue::unreachable_at_start_is_a_clear_error(&options, "redis queue 127.0.0.1");
}
