#!/usr/bin/env bash
# Runs the .phpt tests with PHP's run-tests.php for each extension (ours and Debian's pecl
# php-gearman) against each server (our gearmand and Debian's); every run must pass (the phpt
# files that exercise a defect of the reference skip under it). Servers run on 127.0.0.1 on ports
# the kernel picks and are stopped by PID.
# `debian-on-ours` is Debian's php-gearman loading our libgearman.so.8 (LD_LIBRARY_PATH): every
# test that passes on Debian's libgearman must pass there too, and none may fail.
# Usage: run.sh [ours|debian|debian-on-ours ...]   (default: all three)
set -uo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
tests="$root/bindings/php/tests"
ours_ext="$root/bindings/php/target/release/libgearman.so"
debian_ext=$(php -n -r 'echo ini_get("extension_dir");')/gearman.so
run_tests=$(ls /usr/lib/php/*/build/run-tests.php | head -1)
extensions=("$@")
[ $# -eq 0 ] && extensions=(ours debian debian-on-ours)

source "$root/scripts/gearmand.sh"
# Our gearmand as the sources say now, never a stale one.
cargo build --quiet --manifest-path "$root/Cargo.toml" -p gearman-server --bin gearmand || exit 1
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

declare -A port
start_gearmand "$root/target/debug/gearmand" "$work/ours.log" || exit 1
pids+=("$gearmand_pid") port[ours]=$gearmand_port
start_gearmand /usr/sbin/gearmand "$work/debian.log" --threads=1 --pid-file="$work/debian.pid" || exit 1
pids+=("$gearmand_pid") port[debian]=$gearmand_port
hold_closed_port
pids+=("$closed_port_pid") dead_port=$closed_port
# Our gearmand on TLS with a throwaway CA (028-tls.phpt): one requiring client certificates,
# one not.
pki="$work/pki"
"$root/scripts/test-pki.sh" "$pki" || exit 1
tls=(--ssl --ssl-certificate="$pki/server.pem" --ssl-key="$pki/server.key")
start_gearmand "$root/target/debug/gearmand" "$work/tls.log" "${tls[@]}" --ssl-ca-file="$pki/ca.pem" || exit 1
pids+=("$gearmand_pid") tls_port=$gearmand_port
start_gearmand "$root/target/debug/gearmand" "$work/tls-open.log" "${tls[@]}" || exit 1
pids+=("$gearmand_pid") tls_open_port=$gearmand_port
export GEARMAN_TEST_TLS_PORT=$tls_port GEARMAN_TEST_TLS_OPEN_PORT=$tls_open_port GEARMAN_TEST_PKI=$pki

# Our libgearman.so.8 for Debian's extension to load.
if [[ " ${extensions[*]} " == *" debian-on-ours "* ]]; then
  (cd "$root" && cargo build --quiet -p gearman-ffi) || exit 1
  mkdir -p "$work/lib" && cp "$root/target/debug/libgearman.so" "$work/lib/libgearman.so.8"
fi

status=0
for ext in "${extensions[@]}"; do
  library_path=${LD_LIBRARY_PATH:-}
  case "$ext" in
    ours) load="$ours_ext" ;;
    debian) load="$debian_ext" ;;
    debian-on-ours) load="$debian_ext" library_path="$work/lib" ;;
  esac
  for server in ours debian; do
    echo "== $ext extension against $server gearmand"
    out="$work/$ext-$server.out"
    LD_LIBRARY_PATH=$library_path \
    GEARMAN_TEST_HOST=127.0.0.1 GEARMAN_TEST_PORT=${port[$server]} GEARMAN_DEAD_PORT=$dead_port \
    TEST_PHP_EXECUTABLE=/usr/bin/php NO_INTERACTION=1 \
      timeout 600 php -n "$run_tests" -q -p /usr/bin/php -n -d "extension=$load" \
        --set-timeout 60 --show-diff "$tests" >"$out" 2>&1
    grep -E "^(PASS|FAIL|SKIP|BORK)|^Tests (passed|failed|skipped)" "$out" | sed 's/^/   /'
    if grep -qE "^(FAIL|BORK)" "$out" || ! grep -qE "^Tests passed" "$out"; then
      status=1
      sed -n '/^=====/,$p' "$out" | head -150
    fi
    grep -E "^(PASS|SKIP)" "$out" | sed 's/ \[.*//' > "$work/$ext-$server.passed"
    grep -E "^PASS" "$out" | sed 's/ \[.*//' > "$work/$ext-$server.pass-only"
  done
done
# Argument coercion (ZPP, weak and strict) of ours and Debian's compared line by line; the
# differences must be the listed 2.1.0-vs-2.1.5 ones.
if [[ " ${extensions[*]} " == *" ours "* && " ${extensions[*]} " == *" debian "* ]]; then
  echo "== argument coercion: ours vs Debian's php-gearman, weak and strict"
  php -n -d "extension=$ours_ext" "$tests/coercion_types.php" > "$work/types.json"
  for mode in 0 1; do
    for ext in ours debian; do
      [ "$ext" = ours ] && load="$ours_ext" || load="$debian_ext"
      STRICT=$mode timeout 300 php -n -d "extension=$load" "$tests/coercion.php" "$work/types.json" \
        2>/dev/null | tr '[:upper:]' '[:lower:]' > "$work/coercion-$ext-$mode.txt"
    done
    patterns=$(grep -v '^#' "$tests/coercion-differences.txt")
    unexplained=$(diff "$work/coercion-ours-$mode.txt" "$work/coercion-debian-$mode.txt" \
      | grep '^[<>]' | cut -c3- | grep -v -E -f <(echo "$patterns") || true)
    total=$(wc -l < "$work/coercion-ours-$mode.txt")
    same=$(comm -12 <(sort "$work/coercion-ours-$mode.txt") <(sort "$work/coercion-debian-$mode.txt") | wc -l)
    echo "   $([ "$mode" = 1 ] && echo strict || echo weak): $total calls, $same identical, the rest listed 2.1.0 differences"
    if [ -n "$unexplained" ] || [ "$total" -lt 1000 ]; then
      echo "   unexplained differences:"; echo "$unexplained" | head -40
      status=1
    fi
  done
fi
# Reflection of every class, method and function: ours vs Debian's, listed 2.1.0 differences only.
if [[ " ${extensions[*]} " == *" ours "* && " ${extensions[*]} " == *" debian "* ]]; then
  echo "== reflection: ours vs Debian's php-gearman"
  php -n -d "extension=$ours_ext" "$tests/reflection.php" > "$work/reflection-ours.txt"
  php -n -d "extension=$debian_ext" "$tests/reflection.php" > "$work/reflection-debian.txt"
  python3 "$tests/reflection_compare.py" "$work/reflection-ours.txt" "$work/reflection-debian.txt" \
    || status=1
fi
# What Debian's extension passes on Debian's libgearman, it passes on ours.
for server in ours debian; do
  if [ -f "$work/debian-$server.pass-only" ] && [ -f "$work/debian-on-ours-$server.pass-only" ]; then
    missing=$(comm -23 <(sort "$work/debian-$server.pass-only") <(sort "$work/debian-on-ours-$server.pass-only"))
    if [ -n "$missing" ]; then
      echo "Debian's extension passes these on its own libgearman but not on ours ($server gearmand):"
      echo "$missing"
      status=1
    fi
  fi
done
# Our extension once more under valgrind (run-tests.php -m: memory errors and leaks fail a test).
if [[ " ${extensions[*]} " == *" ours "* ]] && command -v valgrind >/dev/null; then
  echo "== ours extension under valgrind against ours gearmand"
  out="$work/valgrind.out"
  # Not 028-tls.phpt: valgrind cannot follow ring's AES-GCM assembly (from BoringSSL) and reports
  # its output as uninitialised, in ring's open_within and in the records sent, in every TLS run;
  # OpenSSL's AES-GCM draws the same report (openssl/openssl#19719).
  GEARMAN_TEST_HOST=127.0.0.1 GEARMAN_TEST_PORT=${port[ours]} GEARMAN_DEAD_PORT=$dead_port \
  GEARMAN_TEST_TLS_PORT= TEST_PHP_EXECUTABLE=/usr/bin/php NO_INTERACTION=1 \
    timeout 900 php -n "$run_tests" -q -m -p /usr/bin/php -n -d "extension=$ours_ext" \
      --set-timeout 300 --show-diff "$tests" >"$out" 2>&1
  grep -E "^Tests (passed|failed|skipped)" "$out" | sed 's/^/   /'
  if grep -qE "^(FAIL|BORK|LEAK)" "$out" || ! grep -qE "^Tests passed" "$out"; then
    status=1
    sed -n '/^=====/,$p' "$out" | head -150
  fi
fi
exit $status
