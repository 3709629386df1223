//! Server arguments as pecl takes them, with libgearman's rules from gearman-core's
//! `server_list`: `addServer(host, port)` with `null`/`''` meaning localhost and 0 meaning 4730,
//! `addServers("h1:p1,h2")` with `null` meaning `GEARMAN_SERVERS` or localhost. Names are
//! resolved at once, so a bad host is reported by the call that added it.

use gearman_core::server_list;
use gearman_core::ServerAddr;

pub fn resolve(host: Option<&[u8]>, port: i64) -> Result<ServerAddr, String> {
    let host = String::from_utf8_lossy(host.unwrap_or_default());
    let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
    server_list::resolve(&host, port)
}

/// The list `addServers()` uses for `null`.
pub fn list_or_default(list: Option<&[u8]>) -> String {
    match list {
        Some(l) => String::from_utf8_lossy(l).into_owned(),
        None => server_list::default_list(),
    }
}

pub fn resolve_list(list: &str) -> Result<Vec<ServerAddr>, String> {
    server_list::split_list(list)?
        .into_iter()
        .map(|(host, port)| server_list::resolve(host, port))
        .collect()
}
