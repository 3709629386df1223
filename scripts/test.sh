#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit tests, the interop tests against Debian's
# gearmand and tools, the C library against Debian's libgearman, the Python and PHP peers, and
# our Python module and PHP extension (all installed here if missing). Every server a test needs is started by the
# test itself on 127.0.0.1 on a free port and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace 2>&1 | tee target/test-output.txt
# Miri checks the C ABI's handle life cycles and the libgearman model's bookkeeping (it cannot
# open sockets; the callback re-entrancy tests run under valgrind and ASan in cargo test).
if timeout 300 rustup component add --toolchain nightly miri rust-src >/dev/null 2>&1; then
  MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test -p gearman-ffi --lib
  MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test -p gearman-core --lib libgearman
else
  echo "Miri is not installable here (no nightly toolchain): its run is skipped"
fi
# The fuzz targets (codec, engine with its invariants), one minute each from the seed corpus.
scripts/fuzz.sh 60
# Independent peers (python gear, pygearman, Debian's php-gearman) against our gearmand.
tests/peers/run.sh
# The SQL functions' example: MariaDB and PostgreSQL triggers queueing jobs (their tests ran
# in cargo test above).
examples/sql/run.sh
# The Python module: built by maturin into a venv, tested with pytest against both servers and
# against pygearman (whose venv tests/peers/run.sh made).
scripts/python-env.sh
cargo fmt --manifest-path bindings/python/Cargo.toml -- --check
(cd bindings/python && cargo clippy --quiet -- -D warnings)
(cd bindings/python && ../../target/pyenv/bin/python -m pytest -q tests)
# The PHP extension (ext-php-rs; needs php-dev and libclang): its .phpt tests run with PHP's
# run-tests.php for ours and for Debian's php-gearman, each against both servers.
cargo fmt --manifest-path bindings/php/Cargo.toml -- --check
(cd bindings/php && cargo clippy --release --quiet -- -D warnings && cargo build --release --quiet)
bindings/php/tests/run.sh
