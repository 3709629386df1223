# Shared by the client benchmarks (bench/php/run.sh, bench/python/run.sh): sourced after `root`
# is set. Starts our release gearmand on 127.0.0.1, on a port the kernel picks ($port), keeps a scratch
# directory ($dir), stops every process in $pids on exit, and sets the run sizes.

# Each library runs `rounds` times, alternating, and the medians are printed: the client, the
# server and the workers share two cores, so single runs are noisy.
single=3000 many=30000 rounds=5
if [ "${1:-}" = "--quick" ]; then single=1000 many=10000 rounds=1; fi

source "$root/scripts/gearmand.sh"
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

start_our_gearmand() {
  start_gearmand "$root/target/release/gearmand" "$dir/log" || exit 1
  pids+=("$gearmand_pid")
  port=$gearmand_port
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# Runs `run_theirs INFLIGHT JOBS` and `run_ours INFLIGHT JOBS` (defined by the caller, each
# printing "jobs/s cpu-µs") $rounds times, alternating, for 1 and for 100 jobs in flight, and
# prints a table row for each.
compare_rows() { # row-format
  local spec row_format=$1
  for spec in "1 $single" "100 $many"; do
    set -- $spec
    : >"$dir/theirs"; : >"$dir/ours"
    for _ in $(seq "$rounds"); do
      run_theirs "$1" "$2" >>"$dir/theirs"
      run_ours "$1" "$2" >>"$dir/ours"
    done
    print_row "$1 ($2 jobs) x$rounds" "$row_format"
  done
}

# Prints one table row from the runs in $dir/theirs and $dir/ours ("jobs/s cpu-µs" per line).
print_row() { # label format
  local t_rate t_cpu o_rate o_cpu
  t_rate=$(cut -d' ' -f1 "$dir/theirs" | median); t_cpu=$(cut -d' ' -f2 "$dir/theirs" | median)
  o_rate=$(cut -d' ' -f1 "$dir/ours" | median); o_cpu=$(cut -d' ' -f2 "$dir/ours" | median)
  # shellcheck disable=SC2059
  printf "$2" "$1" "$t_rate" "$o_rate" "$t_cpu" "$o_cpu" "$(python3 -c "print($o_cpu / $t_cpu)")"
}
