//! The committed header must be exactly what the pinned cbindgen generates from the sources.
//! `UPDATE_HEADER=1 cargo test -p gearman-ffi --test header` rewrites it.

use std::path::Path;

fn generate() -> String {
    // Every export is a plain `extern "C" fn` item, so cbindgen reads the sources as written
    // (no macro expansion, no nightly compiler).
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let types = std::fs::read_to_string(crate_dir.join("header/types.h")).expect("types.h");
    config.after_includes = Some(types);
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("utf-8 header")
}

#[test]
fn committed_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/libgearman.h");
    let generated = generate();
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/libgearman.h is stale: run UPDATE_HEADER=1 cargo test -p gearman-ffi --test header"
    );
}

/// `NAME = value` pairs of the C header's definitions, in order, for names with `prefix`.
fn header_values(prefix: &str) -> Vec<(String, i64)> {
    let types = include_str!("../header/types.h");
    types
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
            name.starts_with(prefix).then_some(())?;
            let value = match value.strip_prefix("(1 << ") {
                Some(shift) => 1i64 << shift.trim_end_matches(')').parse::<u32>().ok()?,
                None => value.parse().ok()?,
            };
            Some((name.to_string(), value))
        })
        .collect()
}

/// The header's `gearman_return_t` is gearman-core's one return-code table, name for name.
#[test]
fn return_codes_match_the_core_table() {
    let header = header_values("GEARMAN_");
    let codes: Vec<(String, i64)> = header
        .into_iter()
        .take_while(|(name, _)| name != "GEARMAN_VERBOSE_NEVER")
        .take(gearman_core::return_code::NAMES.len())
        .collect();
    let core: Vec<(String, i64)> = gearman_core::return_code::NAMES
        .iter()
        .enumerate()
        .map(|(value, name)| (name.to_string(), value as i64))
        .collect();
    assert_eq!(codes, core);
}

/// The header's option bits are the libgearman model's.
#[test]
fn option_bits_match_the_model() {
    use gearman_core::libgearman::options::*;
    let header: std::collections::HashMap<String, i64> = header_values("GEARMAN_CLIENT_")
        .into_iter()
        .chain(header_values("GEARMAN_WORKER_"))
        .collect();
    let model = [
        ("GEARMAN_CLIENT_ALLOCATED", CLIENT_ALLOCATED),
        ("GEARMAN_CLIENT_NON_BLOCKING", CLIENT_NON_BLOCKING),
        ("GEARMAN_CLIENT_TASK_IN_USE", CLIENT_TASK_IN_USE),
        ("GEARMAN_CLIENT_UNBUFFERED_RESULT", CLIENT_UNBUFFERED_RESULT),
        ("GEARMAN_CLIENT_NO_NEW", CLIENT_NO_NEW),
        ("GEARMAN_CLIENT_FREE_TASKS", CLIENT_FREE_TASKS),
        ("GEARMAN_CLIENT_GENERATE_UNIQUE", CLIENT_GENERATE_UNIQUE),
        ("GEARMAN_CLIENT_EXCEPTION", CLIENT_EXCEPTION),
        ("GEARMAN_CLIENT_SSL", CLIENT_SSL),
        ("GEARMAN_WORKER_ALLOCATED", WORKER_ALLOCATED),
        ("GEARMAN_WORKER_NON_BLOCKING", WORKER_NON_BLOCKING),
        ("GEARMAN_WORKER_PACKET_INIT", WORKER_PACKET_INIT),
        ("GEARMAN_WORKER_CHANGE", WORKER_CHANGE),
        ("GEARMAN_WORKER_GRAB_UNIQ", WORKER_GRAB_UNIQ),
        ("GEARMAN_WORKER_TIMEOUT_RETURN", WORKER_TIMEOUT_RETURN),
        ("GEARMAN_WORKER_GRAB_ALL", WORKER_GRAB_ALL),
        ("GEARMAN_WORKER_SSL", WORKER_SSL),
        ("GEARMAN_WORKER_IDENTIFIER", WORKER_IDENTIFIER),
    ];
    for (name, value) in model {
        assert_eq!(header.get(name), Some(&i64::from(value)), "{name}");
    }
}
