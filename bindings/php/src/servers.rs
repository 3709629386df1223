//! Server arguments as pecl takes them: `addServer(host, port)` with `null`/`''` meaning
//! localhost and 0 meaning 4730, and `addServers("h1:p1,h2")` with `null` meaning the
//! `GEARMAN_SERVERS` environment variable or localhost. Names are resolved at once, so a bad
//! host is reported by the call that added it.

use std::net::ToSocketAddrs;

use gearman_core::{ServerAddr, DEFAULT_PORT};

const DEFAULT_HOST: &str = "localhost";

pub fn resolve(host: Option<&[u8]>, port: i64) -> Result<ServerAddr, String> {
    let host = match host {
        Some(h) if !h.is_empty() => String::from_utf8_lossy(h).into_owned(),
        _ => DEFAULT_HOST.to_string(),
    };
    let port = match port {
        0 => DEFAULT_PORT,
        p => u16::try_from(p).map_err(|_| format!("port {p} is out of range"))?,
    };
    let addr = ServerAddr::new(host, port);
    check(&addr)?;
    Ok(addr)
}

/// The list `addServers()` uses for `null`.
pub fn list_or_default(list: Option<&[u8]>) -> String {
    match list {
        Some(l) => String::from_utf8_lossy(l).into_owned(),
        None => std::env::var("GEARMAN_SERVERS")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| format!("{DEFAULT_HOST}:{DEFAULT_PORT}")),
    }
}

pub fn resolve_list(list: &str) -> Result<Vec<ServerAddr>, String> {
    let addrs = ServerAddr::parse_list(list).map_err(|e| e.to_string())?;
    for addr in &addrs {
        check(addr)?;
    }
    Ok(addrs)
}

fn check(addr: &ServerAddr) -> Result<(), String> {
    match (addr.host.as_str(), addr.port).to_socket_addrs() {
        Ok(found) if found.len() > 0 => Ok(()),
        Ok(_) => Err(format!("{addr}: the name has no address")),
        Err(e) => Err(format!("{addr}: {e}")),
    }
}
