//! TLS for PHP, which pecl's API has no call for: libgearman's option bits
//! (`GEARMAN_CLIENT_SSL`, `GEARMAN_WORKER_SSL`, through setOptions / addOptions) and the
//! certificate paths from php.ini. An empty setting falls back to libgearman's environment
//! variables and default files, as `gearman_client_set_ssl` with NULL does.

use std::path::PathBuf;

use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{ExecutorGlobals, IniEntryDef, IniEntryDefs};

const CA_FILE: &str = "gearman.ssl_ca_file";
const CERTIFICATE: &str = "gearman.ssl_certificate";
const KEY: &str = "gearman.ssl_key";

static INI_ENTRIES: IniEntryDefs<4> = IniEntryDefs::new([
    IniEntryDef::new(c"gearman.ssl_ca_file", c"", IniEntryPermission::All),
    IniEntryDef::new(c"gearman.ssl_certificate", c"", IniEntryPermission::All),
    IniEntryDef::new(c"gearman.ssl_key", c"", IniEntryPermission::All),
    IniEntryDef::end(),
]);

/// MINIT: declares the settings.
pub fn register_ini(module_number: i32) {
    IniEntryDef::register(INI_ENTRIES.as_slice(), module_number);
}

/// The files the settings name now (`ini_set` may have changed them): CA, certificate, key.
pub fn ini_files() -> (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
    let values = ExecutorGlobals::get().ini_values();
    let path = |name: &str| {
        values
            .get(name)
            .cloned()
            .flatten()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    (path(CA_FILE), path(CERTIFICATE), path(KEY))
}

/// Whether an options value asks for TLS.
pub fn asks_tls(options: i64, bit: i32) -> bool {
    options & i64::from(bit) != 0
}
