//! libgearman's server arguments, shared by the front ends that copy its API (the C ABI and the
//! PHP extension): `"h1:p1,h2"` lists, empty host = localhost, port 0 = 4730, names resolved
//! when added, and the `GEARMAN_SERVERS` default.

use std::net::ToSocketAddrs;

use crate::connection::{ServerAddr, DEFAULT_PORT};

/// Splits `"h1:p1,h2,h3:p3"`; the port is 0 when omitted (no IPv6 brackets, as in libgearman).
pub fn split_list(list: &str) -> Result<Vec<(&str, u16)>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.rsplit_once(':') {
            Some((host, port)) => port
                .parse()
                .map(|p| (host, p))
                .map_err(|_| format!("bad port in {item:?}")),
            None => Ok((item, 0)),
        })
        .collect()
}

/// Applies libgearman's defaults (empty host: localhost; port 0: 4730) and resolves the host now,
/// as `add_server` does.
pub fn resolve(host: &str, port: u16) -> Result<ServerAddr, String> {
    let host = if host.is_empty() { "localhost" } else { host };
    let port = if port == 0 { DEFAULT_PORT } else { port };
    let resolved = (host, port)
        .to_socket_addrs()
        .map(|mut a| a.next().is_some());
    if resolved.unwrap_or(false) {
        Ok(ServerAddr::new(host, port))
    } else {
        Err(format!("{host}:{port} getaddrinfo failed"))
    }
}

/// The list `GEARMAN_SERVERS` names at create time (an empty value means localhost:4730).
pub fn from_env() -> Option<String> {
    let list = std::env::var("GEARMAN_SERVERS").ok()?;
    Some(if list.trim().is_empty() {
        "localhost:4730".to_string()
    } else {
        list
    })
}

/// The list `add_servers(NULL)` uses: `GEARMAN_SERVERS` if set and not empty, else localhost.
pub fn default_list() -> String {
    std::env::var("GEARMAN_SERVERS")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "localhost:4730".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_libgearman() {
        assert_eq!(
            split_list("a:1, b ,c:3").unwrap(),
            vec![("a", 1), ("b", 0), ("c", 3)]
        );
        assert!(split_list("a:x").is_err());
        assert!(resolve("nonexistent.invalid", 1).is_err());
        assert_eq!(resolve("", 0).unwrap(), ServerAddr::new("localhost", 4730));
    }
}
