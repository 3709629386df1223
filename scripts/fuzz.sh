#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/: the protocol codec and the job server's engine) with cargo-fuzz
# for SECONDS each (default 60), starting from the committed seed corpus. Needs the nightly
# toolchain and cargo-fuzz; installs cargo-fuzz if missing. If nightly cannot be had (no network
# to rustup), says so and skips: the rest of the suite does not depend on it.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(codec engine)

if ! rustup run nightly rustc --version >/dev/null 2>&1 &&
   ! timeout 300 rustup toolchain install nightly --profile minimal >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain (rustup cannot fetch it here); skipped"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null; then
  cargo install --locked cargo-fuzz >/dev/null
fi
# The seed corpus includes every input that once failed, so each run replays them first.
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$target/." "$work/"
  echo "== fuzz $target for ${seconds}s"
  status=0
  (cd fuzz && cargo +nightly fuzz run -O "$target" "$work" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1) >"$work.log" 2>&1 || status=$?
  grep -E "^stat::number_of_executed_units|^Done|panicked|after step|SUMMARY" "$work.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$work.log"
    echo "fuzz: $target failed (the input is in fuzz/artifacts/$target)"
    rm -rf "$work" "$work.log"
    exit 1
  fi
  rm -rf "$work" "$work.log"
done
