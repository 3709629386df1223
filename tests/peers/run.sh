#!/usr/bin/env bash
# Runs the independent peers (python gear, pygearman, Debian's php-gearman) against our gearmand
# and, for reference, against Debian's gearmand. Each server runs on 127.0.0.1 on a port the kernel
# picks and is stopped by PID. Prints "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers="$root/target/peers"
mkdir -p "$peers"
source "$root/scripts/gearmand.sh"
# Our gearmand as the sources say now, never a stale one.
cargo build --quiet --manifest-path "$root/Cargo.toml" -p gearman-server --bin gearmand || exit 1
for p in gear pygearman; do
  if [ ! -x "$peers/venv-$p/bin/python" ] || ! "$peers/venv-$p/bin/python" -c "import ${p/pygearman/gearman}" 2>/dev/null; then
    rm -rf "$peers/venv-$p"
    python3 -m venv "$peers/venv-$p" && "$peers/venv-$p/bin/pip" install -q "$p" >/dev/null
  fi
done

passed=0
failed=0
run_against() {
  local name=$1 server=$2
  shift 2
  local port dir pid
  dir=$(mktemp -d)
  case "$server" in
    ours) start_gearmand "$root/target/debug/gearmand" "$dir/log" ;;
    debian) start_gearmand /usr/sbin/gearmand "$dir/log" --threads=1 --pid-file="$dir/pid" ;;
  esac || { failed=$((failed + 1)); echo "FAIL  $server gearmand did not start"; return; }
  pid=$gearmand_pid port=$gearmand_port
  if PORT=$port timeout 60 "$@" >"$dir/out" 2>&1; then
    passed=$((passed + 1)); echo "ok    $name against $server gearmand"
  else
    failed=$((failed + 1)); echo "FAIL  $name against $server gearmand"; sed 's/^/      /' "$dir/out"
  fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
for server in ours debian; do
  run_against gear "$server" "$peers/venv-gear/bin/python" -W ignore "$root/tests/peers/gear_peer.py"
  run_against pygearman "$server" "$peers/venv-pygearman/bin/python" "$root/tests/peers/pygearman_peer.py"
  run_against php-gearman "$server" php "$root/tests/peers/php_gearman_peer.php"
done
echo "peers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
