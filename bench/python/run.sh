#!/usr/bin/env bash
# Our Python module against pygearman: the same load script under each, against our gearmand
# with the same workers, printing jobs/s and the client's CPU time per job.
#   bench/python/run.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source bench/lib.sh "$@"
scripts/python-env.sh
[ -x target/peers/venv-pygearman/bin/python ] || tests/peers/run.sh >/dev/null
cargo build --release --quiet -p gearman-server
start_our_gearmand
for _ in 1 2; do target/pyenv/bin/python bench/python/worker.py "$port" & pids+=($!); done
sleep 0.5
ours=target/pyenv/bin/python
theirs=target/peers/venv-pygearman/bin/python
printf '\nPython client benchmark: bench/python/load.py under each module, same server and workers\n'
printf '%-22s %14s %14s %16s %14s %10s\n' "in flight" "pygearman j/s" "ours j/s" "pygearman µs/job" "ours µs/job" "CPU ratio"
run_theirs() { (cd "$dir" && "$root/$theirs" "$root/bench/python/load.py" "$port" "$1" "$2"); }
run_ours() { (cd "$dir" && "$root/$ours" "$root/bench/python/load.py" "$port" "$1" "$2"); }
compare_rows '%-22s %14s %14s %16s %14s %9.2fx\n'
echo "(medians of the rounds; µs/job = client CPU time, user + sys; CPU ratio = ours / pygearman, lower is better)"
