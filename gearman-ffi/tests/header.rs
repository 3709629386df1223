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
