#!/usr/bin/env bash
# Kept for existing callers: scripts/install-libgearman.sh --prefix PREFIX (default:
# target/libgearman; a relative PREFIX is relative to the repository).
#   scripts/build-libgearman.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/install-libgearman.sh --prefix "${1:-target/libgearman}"
