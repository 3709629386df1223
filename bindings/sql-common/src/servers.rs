//! The server lists `gman_servers_set(servers [, function])` sets: one for all functions and
//! one per function, shared by every caller in the process.

use std::collections::BTreeMap;
use std::sync::Mutex;

use gearman_core::ServerAddr;

#[derive(Default)]
struct Lists {
    default: Option<String>,
    by_function: BTreeMap<Vec<u8>, String>,
}

static LISTS: Mutex<Lists> = Mutex::new(Lists {
    default: None,
    by_function: BTreeMap::new(),
});

fn lists() -> std::sync::MutexGuard<'static, Lists> {
    // The lists are plain data: a panic elsewhere while holding the lock leaves them valid.
    LISTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, thiserror::Error)]
pub enum ServersError {
    #[error("no servers given")]
    Empty,
    #[error("bad server list {list:?}: {reason}")]
    Bad { list: String, reason: String },
}

/// Sets the servers of `function`, or of every function without its own list. The list is
/// gearmand's form: `host[:port],host[:port]…` (port 4730 by default; `[v6]:port`).
pub fn set_servers(list: &str, function: Option<&[u8]>) -> Result<(), ServersError> {
    let list = list.trim();
    if list.is_empty() {
        return Err(ServersError::Empty);
    }
    let parsed = ServerAddr::parse_list(list).map_err(|e| ServersError::Bad {
        list: list.to_string(),
        reason: e.to_string(),
    })?;
    if parsed.is_empty() {
        return Err(ServersError::Empty);
    }
    let mut lists = lists();
    match function {
        Some(function) => {
            lists
                .by_function
                .insert(function.to_vec(), list.to_string());
        }
        None => lists.default = Some(list.to_string()),
    }
    Ok(())
}

/// The servers for `function`: its own list, else the list for all, else `fallback` (a
/// database setting such as PostgreSQL's `gearman.default_servers`).
pub fn servers_for(function: &[u8], fallback: Option<&str>) -> Option<String> {
    let lists = lists();
    lists
        .by_function
        .get(function)
        .or(lists.default.as_ref())
        .cloned()
        .or_else(|| fallback.map(str::to_string))
        .filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_list_wins_over_the_default_which_wins_over_the_fallback() {
        assert_eq!(
            servers_for(b"f1", Some("fallback:1")).as_deref(),
            Some("fallback:1")
        );
        set_servers("a:1, b", None).unwrap();
        set_servers("c:3", Some(b"f1")).unwrap();
        assert_eq!(
            servers_for(b"f1", Some("fallback:1")).as_deref(),
            Some("c:3")
        );
        assert_eq!(
            servers_for(b"f2", Some("fallback:1")).as_deref(),
            Some("a:1, b")
        );
        assert!(matches!(set_servers("  ", None), Err(ServersError::Empty)));
        assert!(matches!(
            set_servers("host:notaport", None),
            Err(ServersError::Bad { .. })
        ));
        // A refused list changes nothing.
        assert_eq!(servers_for(b"f2", None).as_deref(), Some("a:1, b"));
    }
}
