#!/usr/bin/env bash
# The classic count_lines demo: a worker running `wc -l` and a client sending /etc/passwd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --quiet --bins
scripts/install-libgearman.sh >/dev/null
scripts/python-env.sh
(cd bindings/php && cargo build --release --quiet)
bin=target/release
export PKG_CONFIG_PATH=$PWD/target/libgearman/lib/pkgconfig
source scripts/gearmand.sh
dir=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

start_gearmand "$bin/gearmand" "$dir/gearmand.log"
pids+=("$gearmand_pid")
port=$gearmand_port
echo "== our gearmand on 127.0.0.1:$port"

echo "== worker: gearman -w -f count_lines -- wc -l"
"$bin/gearman" -h 127.0.0.1 -p "$port" -w -f count_lines -- wc -l &
pids+=($!)
for _ in $(seq 100); do "$bin/gearadmin" -h 127.0.0.1 -p "$port" --status | grep -q "^count_lines.*1$" && break; sleep 0.05; done

echo "== CLI client: gearman -f count_lines < /etc/passwd"
"$bin/gearman" -h 127.0.0.1 -p "$port" -f count_lines < /etc/passwd
echo "   (wc -l < /etc/passwd says $(wc -l < /etc/passwd))"
echo "== C client (libgearman API, our libgearman.so): count_lines < /etc/passwd"
cc -std=c99 -Wall examples/c/count_lines.c $(pkg-config --cflags --libs libgearman) -o "$dir/count_lines"
"$dir/count_lines" 127.0.0.1 "$port" < /etc/passwd

echo "== Python client (python-gearman API, our module): count_lines < /etc/passwd"
target/pyenv/bin/python examples/python/count_lines.py "127.0.0.1:$port" < /etc/passwd

echo "== PHP client (pecl gearman API, our extension): count_lines < /etc/passwd"
php -n -d extension="$PWD/bindings/php/target/release/libgearman.so" examples/php/count_lines.php 127.0.0.1 "$port" < /etc/passwd

echo "== gearadmin --status"
"$bin/gearadmin" -h 127.0.0.1 -p "$port" --status
