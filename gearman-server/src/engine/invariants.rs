//! The engine's consistency rules, checked by its unit tests after every step and by the
//! fuzzer (`fuzz/`) after every packet: every job is queued, delayed or running (exactly one),
//! and wherever that state is recorded twice the two records agree; the counters `status`
//! prints match a recount; no function with runnable jobs has only sleeping workers that were
//! never woken (a lost wake-up).

use super::*;

impl Engine {
    /// Checks the rules above; the first broken one, described.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut queued = vec![[0u64; 3]; self.functions.len()];
        let mut delayed = vec![0u64; self.functions.len()];
        let mut running = vec![0u64; self.functions.len()];
        let in_queues: hashbrown::HashSet<u64> = self
            .functions
            .iter()
            .flat_map(|f| f.queues.iter().flat_map(|q| q.iter().flatten()).copied())
            .collect();
        for (&no, job) in &self.jobs {
            let func = job.func as usize;
            let live = self
                .functions
                .get(func)
                .is_some_and(|f| self.function_ids.get(&self.functions, &f.name) == Some(job.func));
            if !live {
                return Err(format!("job {no} belongs to a forgotten function {func}"));
            }
            let worker = job.worker();
            let states = [job.has(FLAG_QUEUED), job.has(FLAG_DELAYED), worker != 0];
            if states.iter().filter(|&&s| s).count() != 1 {
                return Err(format!("job {no} is queued/delayed/running: {states:?}"));
            }
            let priority = job.priority as usize;
            if priority > LOW {
                return Err(format!("job {no} has priority {priority}"));
            }
            if job.has(FLAG_QUEUED) {
                queued[func][priority] += 1;
                if !in_queues.contains(&no) {
                    return Err(format!("queued job {no} is in no queue"));
                }
            }
            if job.has(FLAG_DELAYED) {
                delayed[func] += 1;
                if !self.delayed.contains(&(job.when, no)) {
                    return Err(format!("delayed job {no} has no timer"));
                }
            }
            if worker != 0 {
                running[func] += 1;
                let held = self
                    .conns
                    .get(&worker)
                    .map(|c| c.held.iter().filter(|&&h| h == no).count());
                if held != Some(1) {
                    return Err(format!(
                        "job {no} runs on {worker}, which holds it {held:?} times"
                    ));
                }
            }
            for client in job.clients() {
                if !self
                    .conns
                    .get(client)
                    .is_some_and(|c| c.waiting.contains(&no))
                {
                    return Err(format!(
                        "job {no} lists client {client}, which does not wait on it"
                    ));
                }
            }
            if let Some(key) = job.coalesce_key() {
                if self.find_coalesced(job.func, key) != Some(no) {
                    return Err(format!("job {no} cannot be found by its unique"));
                }
            }
        }
        for &(when, no) in &self.delayed {
            if !self
                .jobs
                .get(&no)
                .is_some_and(|j| j.has(FLAG_DELAYED) && j.when == when)
            {
                return Err(format!("a timer for job {no}, which is not delayed"));
            }
        }
        for &(_, no) in &self.deadlines {
            if self.jobs.get(&no).is_none_or(|j| j.worker() == 0) {
                return Err(format!(
                    "a CAN_DO_TIMEOUT deadline for job {no}, which is not running"
                ));
            }
        }
        for name_func in self.function_ids.ids() {
            let func = name_func as usize;
            let f = &self.functions[func];
            if f.queued != queued[func] || f.delayed != delayed[func] || f.running != running[func]
            {
                return Err(format!(
                    "function {:?}: counters {:?}/{}/{} but jobs {:?}/{}/{}",
                    f.name,
                    f.queued,
                    f.delayed,
                    f.running,
                    queued[func],
                    delayed[func],
                    running[func]
                ));
            }
            let mut workers = f.workers.clone();
            workers.sort_unstable();
            workers.dedup();
            if workers.len() != f.workers.len() {
                return Err(format!("function {:?} lists a worker twice", f.name));
            }
            for w in &f.workers {
                if !self
                    .conns
                    .get(w)
                    .is_some_and(|c| c.timeouts.contains_key(&name_func))
                {
                    return Err(format!(
                        "function {:?} lists {w}, which did not register it",
                        f.name
                    ));
                }
            }
            let runnable = f.queued.iter().any(|&n| n > 0);
            let sleepers_never_woken = !f.workers.is_empty()
                && f.workers.iter().all(|w| {
                    self.conns
                        .get(w)
                        .is_some_and(|c| c.sleeping && !c.noop_sent)
                });
            if runnable && sleepers_never_woken {
                return Err(format!(
                    "function {:?} has jobs but its workers all sleep unwoken",
                    f.name
                ));
            }
        }
        for (&id, conn) in &self.conns {
            if conn.abilities.len() != conn.timeouts.len() {
                return Err(format!("connection {id}: abilities and timeouts disagree"));
            }
            for &func in &conn.abilities {
                let listed = self
                    .functions
                    .get(func as usize)
                    .is_some_and(|f| f.workers.contains(&id));
                if !listed {
                    return Err(format!(
                        "connection {id} registered function {func}, which does not list it"
                    ));
                }
            }
            for no in &conn.held {
                if self.jobs.get(no).map(Job::worker) != Some(id) {
                    return Err(format!(
                        "connection {id} holds job {no}, which it does not run"
                    ));
                }
            }
            for no in &conn.waiting {
                if !self.jobs.get(no).is_some_and(|j| j.clients().contains(&id)) {
                    return Err(format!(
                        "connection {id} waits on job {no}, which does not list it"
                    ));
                }
            }
        }
        Ok(())
    }
}
