//! Server arguments as pecl takes them: `addServer(host, port)` with `null`/`''` meaning
//! localhost and 0 meaning 4730, `addServers("h1:p1,h2")` with `null` meaning `GEARMAN_SERVERS`
//! or localhost. gearman-core's libgearman model applies libgearman's rules and resolves names
//! at once, so a bad host is reported by the call that added it.

use gearman_core::server_list;

pub fn host_text(host: Option<&[u8]>) -> String {
    String::from_utf8_lossy(host.unwrap_or_default()).into_owned()
}

/// A port as libgearman's `in_port_t`.
pub fn port(port: i64) -> Result<u16, String> {
    u16::try_from(port).map_err(|_| format!("port {port} is out of range"))
}

/// The list `addServers()` uses for `null`.
pub fn list_or_default(list: Option<&[u8]>) -> String {
    match list {
        Some(l) => String::from_utf8_lossy(l).into_owned(),
        None => server_list::default_list(),
    }
}
