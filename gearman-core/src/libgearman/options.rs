//! libgearman 1.1.20's option bits and how `set_options`, `add_options` and `remove_options`
//! change them (libgearman/client.cc and worker.cc): `set` adds each usable bit it names and
//! removes each it does not; some bits can be added but not removed, and EXCEPTION is on only
//! once the servers were asked for exceptions.

/// The library allocated the handle struct (reported, never set).
pub const CLIENT_ALLOCATED: i32 = 1 << 0;
pub const CLIENT_NON_BLOCKING: i32 = 1 << 1;
pub const CLIENT_TASK_IN_USE: i32 = 1 << 2;
pub const CLIENT_UNBUFFERED_RESULT: i32 = 1 << 3;
pub const CLIENT_NO_NEW: i32 = 1 << 4;
pub const CLIENT_FREE_TASKS: i32 = 1 << 5;
pub const CLIENT_GENERATE_UNIQUE: i32 = 1 << 6;
pub const CLIENT_EXCEPTION: i32 = 1 << 7;
pub const CLIENT_SSL: i32 = 1 << 8;
/// The bits `set_options` goes through, in libgearman's order.
const CLIENT_USABLE: [i32; 6] = [
    CLIENT_NON_BLOCKING,
    CLIENT_UNBUFFERED_RESULT,
    CLIENT_FREE_TASKS,
    CLIENT_GENERATE_UNIQUE,
    CLIENT_EXCEPTION,
    CLIENT_SSL,
];

pub const WORKER_ALLOCATED: i32 = 1 << 0;
pub const WORKER_NON_BLOCKING: i32 = 1 << 1;
pub const WORKER_PACKET_INIT: i32 = 1 << 2;
pub const WORKER_CHANGE: i32 = 1 << 6;
pub const WORKER_GRAB_UNIQ: i32 = 1 << 7;
pub const WORKER_TIMEOUT_RETURN: i32 = 1 << 8;
pub const WORKER_GRAB_ALL: i32 = 1 << 9;
pub const WORKER_SSL: i32 = 1 << 10;
pub const WORKER_IDENTIFIER: i32 = 1 << 11;
const WORKER_USABLE: [i32; 6] = [
    WORKER_NON_BLOCKING,
    WORKER_GRAB_UNIQ,
    WORKER_GRAB_ALL,
    WORKER_TIMEOUT_RETURN,
    WORKER_SSL,
    WORKER_IDENTIFIER,
];
/// libgearman's worker timeout once TIMEOUT_RETURN is removed (`GEARMAN_WORKER_WAIT_TIMEOUT`).
pub const WORKER_WAIT_TIMEOUT_MS: i32 = 10_000;

/// A client's option flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientFlags {
    pub non_blocking: bool,
    pub unbuffered_result: bool,
    pub free_tasks: bool,
    pub generate_unique: bool,
    /// The servers were asked to forward exceptions.
    pub exceptions: bool,
    pub ssl: bool,
}

impl ClientFlags {
    /// `gearman_client_options()` (without ALLOCATED): EXCEPTION is not reported there.
    pub fn bits(&self) -> i32 {
        [
            (self.non_blocking, CLIENT_NON_BLOCKING),
            (self.unbuffered_result, CLIENT_UNBUFFERED_RESULT),
            (self.free_tasks, CLIENT_FREE_TASKS),
            (self.generate_unique, CLIENT_GENERATE_UNIQUE),
            (self.ssl, CLIENT_SSL),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }

    /// `gearman_client_has_option()` for one bit (without ALLOCATED).
    pub fn has(&self, option: i32) -> bool {
        match option {
            CLIENT_NON_BLOCKING => self.non_blocking,
            CLIENT_UNBUFFERED_RESULT => self.unbuffered_result,
            CLIENT_FREE_TASKS => self.free_tasks,
            CLIENT_GENERATE_UNIQUE => self.generate_unique,
            CLIENT_EXCEPTION => self.exceptions,
            CLIENT_SSL => self.ssl,
            _ => false,
        }
    }

    /// Adds bits; `ask_exceptions` asks the servers for exceptions and says whether they agreed.
    pub fn add(&mut self, options: i32, ask_exceptions: impl FnOnce() -> bool) {
        self.non_blocking |= options & CLIENT_NON_BLOCKING != 0;
        self.unbuffered_result |= options & CLIENT_UNBUFFERED_RESULT != 0;
        self.free_tasks |= options & CLIENT_FREE_TASKS != 0;
        self.generate_unique |= options & CLIENT_GENERATE_UNIQUE != 0;
        if options & CLIENT_EXCEPTION != 0 {
            self.exceptions = ask_exceptions();
        }
        self.ssl |= options & CLIENT_SSL != 0;
    }

    /// Removes bits; EXCEPTION and SSL cannot be removed.
    pub fn remove(&mut self, options: i32) {
        self.non_blocking &= options & CLIENT_NON_BLOCKING == 0;
        self.unbuffered_result &= options & CLIENT_UNBUFFERED_RESULT == 0;
        self.free_tasks &= options & CLIENT_FREE_TASKS == 0;
        self.generate_unique &= options & CLIENT_GENERATE_UNIQUE == 0;
    }

    /// `gearman_client_set_options()`: each usable bit added or removed, in libgearman's order.
    pub fn set(&mut self, options: i32, ask_exceptions: impl FnOnce() -> bool) {
        let mut ask = Some(ask_exceptions);
        for bit in CLIENT_USABLE {
            if options & bit != 0 {
                self.add(bit, || ask.take().is_some_and(|f| f()));
            } else {
                self.remove(bit);
            }
        }
    }
}

/// Which GRAB packet a worker sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrabCommand {
    Plain,
    Unique,
    All,
}

/// A worker's option flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerFlags {
    pub non_blocking: bool,
    pub grab_uniq: bool,
    pub grab_all: bool,
    pub timeout_return: bool,
    pub ssl: bool,
    /// The GRAB packet: the last of GRAB_UNIQ / GRAB_ALL added or removed decides it.
    pub grab: GrabCommand,
}

impl Default for WorkerFlags {
    /// A new worker grabs with GRAB_JOB_ALL (GRAB_UNIQ and GRAB_ALL on, PACKET_INIT reported).
    fn default() -> Self {
        WorkerFlags {
            non_blocking: false,
            grab_uniq: true,
            grab_all: true,
            timeout_return: false,
            ssl: false,
            grab: GrabCommand::All,
        }
    }
}

/// What a change of worker options asks of the worker beside its flags.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WorkerSideEffects {
    /// Set this timeout (ms): removing TIMEOUT_RETURN restores libgearman's 10 s wait.
    pub timeout: Option<i32>,
    /// Some(true): generate an identifier; Some(false): clear it.
    pub identifier: Option<bool>,
}

impl WorkerFlags {
    /// `gearman_worker_options()` without ALLOCATED; `has_identifier` adds IDENTIFIER.
    pub fn bits(&self, has_identifier: bool) -> i32 {
        [
            (self.non_blocking, WORKER_NON_BLOCKING),
            (true, WORKER_PACKET_INIT),
            (self.grab_uniq, WORKER_GRAB_UNIQ),
            (self.grab_all, WORKER_GRAB_ALL),
            (self.timeout_return, WORKER_TIMEOUT_RETURN),
            (self.ssl, WORKER_SSL),
            (has_identifier, WORKER_IDENTIFIER),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }

    pub fn add(&mut self, options: i32, effects: &mut WorkerSideEffects) {
        self.non_blocking |= options & WORKER_NON_BLOCKING != 0;
        if options & WORKER_GRAB_UNIQ != 0 {
            self.grab = GrabCommand::Unique;
            self.grab_uniq = true;
        }
        if options & WORKER_GRAB_ALL != 0 {
            self.grab = GrabCommand::All;
            self.grab_all = true;
        }
        self.timeout_return |= options & WORKER_TIMEOUT_RETURN != 0;
        self.ssl |= options & WORKER_SSL != 0;
        if options & WORKER_IDENTIFIER != 0 {
            effects.identifier = Some(true);
        }
    }

    pub fn remove(&mut self, options: i32, effects: &mut WorkerSideEffects) {
        self.non_blocking &= options & WORKER_NON_BLOCKING == 0;
        if options & WORKER_TIMEOUT_RETURN != 0 {
            self.timeout_return = false;
            effects.timeout = Some(WORKER_WAIT_TIMEOUT_MS);
        }
        if options & WORKER_GRAB_UNIQ != 0 {
            self.grab = GrabCommand::Plain;
            self.grab_uniq = false;
        }
        if options & WORKER_GRAB_ALL != 0 {
            self.grab = GrabCommand::Plain;
            self.grab_all = false;
        }
        if options & WORKER_IDENTIFIER != 0 {
            effects.identifier = Some(false);
        }
    }

    /// `gearman_worker_set_options()`: each usable bit added or removed, in libgearman's order.
    pub fn set(&mut self, options: i32, effects: &mut WorkerSideEffects) {
        for bit in WORKER_USABLE {
            if options & bit != 0 {
                self.add(bit, effects);
            } else {
                self.remove(bit, effects);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_exception_needs_the_servers_and_cannot_be_removed() {
        let mut flags = ClientFlags::default();
        flags.set(CLIENT_FREE_TASKS | CLIENT_EXCEPTION | CLIENT_SSL, || false);
        assert_eq!(flags.bits(), CLIENT_FREE_TASKS | CLIENT_SSL);
        assert!(!flags.has(CLIENT_EXCEPTION));
        flags.add(CLIENT_EXCEPTION, || true);
        assert!(flags.has(CLIENT_EXCEPTION));
        assert_eq!(
            flags.bits() & CLIENT_EXCEPTION,
            0,
            "never reported by options()"
        );
        flags.set(0, || unreachable!());
        assert!(flags.has(CLIENT_EXCEPTION) && flags.ssl && !flags.free_tasks);
    }

    #[test]
    fn worker_grab_command_follows_the_last_change() {
        let mut flags = WorkerFlags::default();
        let mut effects = WorkerSideEffects::default();
        assert_eq!(flags.bits(false), 644);
        flags.set(WORKER_GRAB_ALL, &mut effects);
        assert_eq!(flags.grab, GrabCommand::All);
        assert!(!flags.grab_uniq);
        assert_eq!(effects.timeout, Some(WORKER_WAIT_TIMEOUT_MS));
        assert_eq!(effects.identifier, Some(false));
        flags.remove(WORKER_GRAB_ALL, &mut effects);
        assert_eq!(flags.grab, GrabCommand::Plain);
        flags.add(WORKER_GRAB_UNIQ, &mut effects);
        assert_eq!(flags.grab, GrabCommand::Unique);
    }
}

/// libgearman's TLS settings of one client or worker: the files `set_ssl` named (unset ones
/// come from libgearman's environment variables and default paths, see [`crate::tls`]), and
/// the connector made from them the first time TLS is on.
#[derive(Debug, Clone, Default)]
pub struct LibTls {
    files: crate::tls::TlsOptions,
    connector: Option<crate::tls::TlsConnector>,
}

impl LibTls {
    /// `gearman_*_set_ssl`'s files; `None` (a NULL or empty string) for the default.
    pub fn set_files(
        &mut self,
        ca_file: Option<std::path::PathBuf>,
        certificate: Option<std::path::PathBuf>,
        key: Option<std::path::PathBuf>,
    ) {
        self.files = crate::tls::TlsOptions::new(ca_file, certificate, key);
        self.connector = None;
    }

    /// The connector while `on`. Files that cannot be used make a connector whose
    /// connections fail with the reason, as libgearman reports it at connect.
    pub fn connector(&mut self, on: bool) -> Option<crate::tls::TlsConnector> {
        if !on {
            return None;
        }
        let files = &self.files;
        Some(
            self.connector
                .get_or_insert_with(|| files.connector_or_failing())
                .clone(),
        )
    }
}
