#!/usr/bin/env bash
# Our Python module against pygearman: the same load script under each, against our gearmand
# with the same workers, printing jobs/s and the client's CPU time per job.
#   bench/python/run.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# Each module runs `rounds` times, alternating, and the medians are printed: the client, the
# server and the workers share two cores, so single runs are noisy.
single=3000 many=30000 rounds=5
if [ "${1:-}" = "--quick" ]; then single=1000 many=10000 rounds=1; fi
scripts/python-env.sh
[ -x target/peers/venv-pygearman/bin/python ] || tests/peers/run.sh >/dev/null
cargo build --release --quiet -p gearman-server
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
target/release/gearmand --listen=127.0.0.1 --port="$port" --log-file="$dir/log" &
pids+=($!)
sleep 0.3
for _ in 1 2; do target/pyenv/bin/python bench/python/worker.py "$port" & pids+=($!); done
sleep 0.5
ours=target/pyenv/bin/python
theirs=target/peers/venv-pygearman/bin/python
printf '\nPython client benchmark: bench/python/load.py under each module, same server and workers\n'
printf '%-22s %14s %14s %16s %14s %10s\n' "in flight" "pygearman j/s" "ours j/s" "pygearman µs/job" "ours µs/job" "CPU ratio"
for spec in "1 $single" "100 $many"; do
  set -- $spec
  : >"$dir/theirs"; : >"$dir/ours"
  for _ in $(seq "$rounds"); do
    (cd "$dir" && "$root/$theirs" "$root/bench/python/load.py" "$port" "$1" "$2") >>"$dir/theirs"
    (cd "$dir" && "$root/$ours" "$root/bench/python/load.py" "$port" "$1" "$2") >>"$dir/ours"
  done
  median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  t_rate=$(cut -d' ' -f1 "$dir/theirs" | median); t_cpu=$(cut -d' ' -f2 "$dir/theirs" | median)
  o_rate=$(cut -d' ' -f1 "$dir/ours" | median); o_cpu=$(cut -d' ' -f2 "$dir/ours" | median)
  printf '%-22s %14s %14s %16s %14s %9.2fx\n' "$1 ($2 jobs) x$rounds" "$t_rate" "$o_rate" "$t_cpu" "$o_cpu" \
    "$(python3 -c "print($o_cpu / $t_cpu)")"
done
echo "(medians of the rounds; µs/job = client CPU time, user + sys; CPU ratio = ours / pygearman, lower is better)"
