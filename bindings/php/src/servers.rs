//! Server arguments as pecl takes them: `addServer(host, port)` with `null`/`''` meaning
//! localhost and 0 meaning 4730, `addServers("h1:p1,h2")` with `null` meaning `GEARMAN_SERVERS`
//! or localhost. gearman-core's libgearman model applies libgearman's rules and resolves names
//! at once, so a bad host is reported by the call that added it.

use gearman_core::libgearman::ServerList;
use gearman_core::return_code::GETADDRINFO;
use gearman_core::server_list;

use crate::error::warn_last;

fn host_text(host: Option<&[u8]>) -> String {
    String::from_utf8_lossy(host.unwrap_or_default()).into_owned()
}

/// A port as libgearman's `in_port_t`.
fn port_of(port: i64) -> Result<u16, String> {
    u16::try_from(port).map_err(|_| format!("port {port} is out of range"))
}

/// The list `addServers()` uses for `null`.
fn list_or_default(list: Option<&[u8]>) -> String {
    match list {
        Some(l) => String::from_utf8_lossy(l).into_owned(),
        None => server_list::default_list(),
    }
}

/// What `addServer()` / `addServers()` were given.
pub enum ServerArgs {
    One { host: String, port: i64 },
    List(String),
}

impl ServerArgs {
    pub fn one(host: Option<&[u8]>, port: i64) -> ServerArgs {
        ServerArgs::One {
            host: host_text(host),
            port,
        }
    }

    pub fn list(list: Option<&[u8]>) -> ServerArgs {
        ServerArgs::List(list_or_default(list))
    }
}

/// Adds what `addServer()` / `addServers()` were given to a client or worker (a port outside
/// `in_port_t` is a GETADDRINFO failure); a failure is a warning, and false.
pub fn add(model: &mut impl ServerList, call: &str, args: &ServerArgs) -> bool {
    let added = match args {
        ServerArgs::One { host, port } => match port_of(*port) {
            Ok(port) => model.add_server(call, host, port),
            Err(detail) => Err(model.last_error().set(GETADDRINFO, call, &detail)),
        },
        ServerArgs::List(list) => model.add_servers(call, list),
    };
    if added.is_err() {
        warn_last(model.last_error());
    }
    added.is_ok()
}
