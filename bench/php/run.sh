#!/usr/bin/env bash
# Our PHP extension against Debian's php-gearman (pecl on libgearman 1.1.20): the same load
# script under each, against the same gearmand (ours) and workers, printing jobs/s and the PHP
# client process's CPU time per job.   bench/php/run.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# Each extension runs `rounds` times, alternating, and the medians are printed: the client, the
# server and the workers share two cores, so single runs are noisy.
single=3000 many=30000 rounds=5
if [ "${1:-}" = "--quick" ]; then single=1000 many=10000 rounds=1; fi
scripts/install-deps.sh
cargo build --release --quiet -p gearman-server
(cd bindings/php && cargo build --release --quiet)
ours="-d extension=$root/bindings/php/target/release/libgearman.so"
theirs="-d extension=gearman"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
target/release/gearmand --listen=127.0.0.1 --port="$port" --log-file="$dir/log" &
pids+=($!)
sleep 0.3
for _ in 1 2; do php -n $ours bench/php/worker.php "$port" & pids+=($!); done
sleep 0.5
printf '\nPHP client benchmark: bench/php/load.php under each extension, same server (ours) and workers\n'
printf '%-24s %15s %12s %17s %13s %10s\n' "in flight" "php-gearman j/s" "ours j/s" "php-gearman µs/job" "ours µs/job" "CPU ratio"
for spec in "1 $single" "100 $many"; do
  set -- $spec
  : >"$dir/theirs"; : >"$dir/ours"
  for _ in $(seq "$rounds"); do
    php -n $theirs bench/php/load.php "$port" "$1" "$2" >>"$dir/theirs"
    php -n $ours bench/php/load.php "$port" "$1" "$2" >>"$dir/ours"
  done
  median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  t_rate=$(cut -d' ' -f1 "$dir/theirs" | median); t_cpu=$(cut -d' ' -f2 "$dir/theirs" | median)
  o_rate=$(cut -d' ' -f1 "$dir/ours" | median); o_cpu=$(cut -d' ' -f2 "$dir/ours" | median)
  printf '%-24s %15s %12s %17s %13s %9.2fx\n' "$1 ($2 jobs) x$rounds" "$t_rate" "$o_rate" "$t_cpu" "$o_cpu" \
    "$(python3 -c "print($o_cpu / $t_cpu)")"
done
echo "(medians of the rounds; µs/job = client CPU time, user + sys; CPU ratio = ours / php-gearman, lower is better)"
