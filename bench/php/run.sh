#!/usr/bin/env bash
# Our PHP extension against Debian's php-gearman (pecl on libgearman 1.1.20): the same load
# script under each, against the same gearmand (ours) and workers, printing jobs/s and the PHP
# client process's CPU time per job.   bench/php/run.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source bench/lib.sh "$@"
scripts/install-deps.sh
cargo build --release --quiet -p gearman-server
(cd bindings/php && cargo build --release --quiet)
ours="-d extension=$root/bindings/php/target/release/libgearman.so"
theirs="-d extension=gearman"
start_our_gearmand
for _ in 1 2; do php -n $ours bench/php/worker.php "$port" & pids+=($!); done
sleep 0.5
printf '\nPHP client benchmark: bench/php/load.php under each extension, same server (ours) and workers\n'
printf '%-24s %15s %12s %17s %13s %10s\n' "in flight" "php-gearman j/s" "ours j/s" "php-gearman µs/job" "ours µs/job" "CPU ratio"
run_theirs() { php -n $theirs bench/php/load.php "$port" "$1" "$2"; }
run_ours() { php -n $ours bench/php/load.php "$port" "$1" "$2"; }
compare_rows '%-24s %15s %12s %17s %13s %9.2fx\n'
echo "(medians of the rounds; µs/job = client CPU time, user + sys; CPU ratio = ours / php-gearman, lower is better)"
