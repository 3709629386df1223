//! scripts/install-libgearman.sh lays our library out like Debian's libgearman-dev, and a C
//! consumer that asks pkg-config for `gearmand` or `libgearman` (by hand, or from an autoconf
//! `./configure`) compiles against our headers, links, and at run time loads our
//! libgearman.so.8 — with Debian's libgearman-dev installed next to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A prefix made by the install script from the library this test run built (`--from`, so the
/// script does not build again with other features or another profile).
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let built = gearman_testkit::our_libgearman();
        let prefix = gearman_testkit::temp_dir("install").join("prefix");
        let out = Command::new(root().join("scripts/install-libgearman.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--from")
            .arg(built.parent().unwrap())
            .output()
            .expect("run install-libgearman.sh");
        assert_success("install-libgearman.sh", &out);
        prefix
    })
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pkg_config(args: &[&str]) -> String {
    let out = Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
        .args(args)
        .output()
        .expect("run pkg-config (scripts/install-deps.sh installs it)");
    assert_success(&format!("pkg-config {args:?}"), &out);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

const CONSUMER: &str = r#"
#include <stdio.h>
#include <libgearman-1.0/gearman.h>

int main(void) {
  gearman_client_st *client = gearman_client_create(NULL);
  if (client == NULL) return 1;
  gearman_client_free(client);
  printf("%s\n", gearman_version());
  return 0;
}
"#;

/// Builds CONSUMER with `flags`, and returns what `ldd` says and what it prints.
fn build_and_run(name: &str, flags: &str) -> (String, String) {
    let dir = gearman_testkit::temp_dir("consumer");
    let source = dir.join("consumer.c");
    std::fs::write(&source, CONSUMER).unwrap();
    let binary = dir.join(name);
    let out = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Werror", "-o"])
        .arg(&binary)
        .arg(&source)
        .args(flags.split_whitespace())
        .output()
        .expect("gcc");
    assert_success(&format!("gcc consumer.c {flags}"), &out);
    let ldd = Command::new("ldd").arg(&binary).output().expect("ldd");
    assert_success("ldd", &ldd);
    let run = Command::new(&binary)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run consumer");
    assert_success(name, &run);
    (
        String::from_utf8(ldd.stdout).unwrap(),
        String::from_utf8(run.stdout).unwrap(),
    )
}

/// Where `ldd`'s listing resolves libgearman.so.8, if it needs it.
fn resolved_libgearman(ldd: &str) -> Option<PathBuf> {
    let line = ldd
        .lines()
        .find(|l| l.trim_start().starts_with("libgearman.so.8"))?;
    let path = line.split("=>").nth(1)?.split_whitespace().next()?;
    Some(std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path)))
}

#[test]
fn installs_debians_layout() {
    let prefix = prefix();
    let lib = prefix.join("lib");
    assert!(lib.join("libgearman.so.8.0.0").is_file());
    for link in ["libgearman.so.8", "libgearman.so"] {
        assert_eq!(
            std::fs::read_link(lib.join(link)).unwrap(),
            Path::new("libgearman.so.8.0.0"),
            "{link}"
        );
    }
    assert!(lib.join("libgearman.a").is_file());
    for pc in ["gearmand.pc", "libgearman.pc"] {
        assert!(lib.join("pkgconfig").join(pc).is_file(), "{pc}");
    }
    let readelf = Command::new("readelf")
        .arg("-d")
        .arg(lib.join("libgearman.so.8.0.0"))
        .output()
        .expect("readelf");
    assert!(String::from_utf8_lossy(&readelf.stdout).contains("[libgearman.so.8]"));
    let out = Command::new("diff")
        .arg("-r")
        .arg(root().join("include"))
        .arg(prefix.join("include"))
        .output()
        .expect("diff");
    assert_success("diff -r include PREFIX/include", &out);
}

/// `pkg-config --cflags --libs NAME` is all a consumer needs: it compiles against our headers
/// and loads our library, not Debian's (which stays installed in /usr).
#[test]
fn pkg_config_consumers_load_ours() {
    for name in ["gearmand", "libgearman"] {
        // What configure scripts check (PKG_CHECK_MODULES([...], [gearmand >= 1.1])).
        pkg_config(&["--exists", "--print-errors", &format!("{name} >= 1.1.20")]);
        let found = pkg_config(&["--variable=prefix", name]);
        assert_eq!(
            Path::new(&found),
            prefix(),
            "pkg-config finds another {name}"
        );
        let flags = pkg_config(&["--cflags", "--libs", name]);
        let (ldd, printed) = build_and_run(name, &flags);
        assert_eq!(
            resolved_libgearman(&ldd),
            Some(std::fs::canonicalize(prefix().join("lib/libgearman.so.8.0.0")).unwrap()),
            "{name}: ldd says\n{ldd}"
        );
        assert!(printed.contains("gearman-rs"), "{name}: printed {printed}");
    }
}

/// `pkg-config --static` names what libgearman.a needs; a consumer linked with it against
/// the archive needs no libgearman.so at all.
#[test]
fn static_consumer_links_the_archive() {
    let flags = pkg_config(&["--static", "--cflags", "--libs", "libgearman"]);
    assert!(flags.contains("-lgearman"), "{flags}");
    let flags = flags.replace("-lgearman", "-l:libgearman.a");
    let (ldd, printed) = build_and_run("static", &flags);
    assert_eq!(resolved_libgearman(&ldd), None, "ldd says\n{ldd}");
    assert!(printed.contains("gearman-rs"), "printed {printed}");
}

/// An autoconf consumer: `PKG_CONFIG_PATH=PREFIX/lib/pkgconfig ./configure && make`.
#[test]
fn configure_and_make_find_ours() {
    let pkg_m4 = Path::new("/usr/share/aclocal/pkg.m4");
    if Command::new("autoconf").arg("--version").output().is_err() || !pkg_m4.is_file() {
        eprintln!("SKIPPED: needs autoconf and pkg-config (scripts/install-deps.sh installs them)");
        return;
    }
    let dir = gearman_testkit::temp_dir("configure");
    std::fs::write(dir.join("consumer.c"), CONSUMER).unwrap();
    std::fs::copy(pkg_m4, dir.join("aclocal.m4")).unwrap();
    std::fs::write(
        dir.join("configure.ac"),
        "AC_INIT([consumer], [1.0])\nAC_PROG_CC\n\
         PKG_CHECK_MODULES([GEARMAN], [gearmand >= 1.1])\n\
         AC_CHECK_HEADERS([libgearman-1.0/gearman.h], [], [AC_MSG_ERROR([no libgearman header])])\n\
         AC_CONFIG_FILES([Makefile])\nAC_OUTPUT\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("Makefile.in"),
        "consumer: consumer.c\n\t@CC@ -std=c99 -Wall -Werror @GEARMAN_CFLAGS@ -o $@ consumer.c \
         @GEARMAN_LIBS@\n",
    )
    .unwrap();
    let sh = |script: &str| {
        let out = Command::new("sh")
            .args(["-c", script])
            .current_dir(&dir)
            .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .expect("sh");
        assert_success(script, &out);
        String::from_utf8(out.stdout).unwrap()
    };
    sh("autoconf && ./configure && make");
    let ldd = sh("ldd ./consumer");
    assert_eq!(
        resolved_libgearman(&ldd),
        Some(std::fs::canonicalize(prefix().join("lib/libgearman.so.8.0.0")).unwrap()),
        "ldd says\n{ldd}"
    );
    assert!(sh("./consumer").contains("gearman-rs"));
}
