#!/usr/bin/env bash
# Builds libgearman.so.8 / libgearman.a from gearman-ffi and installs them, the headers and
# libgearman.pc under PREFIX (default: target/libgearman).
#   scripts/build-libgearman.sh [PREFIX]
#   PKG_CONFIG_PATH=target/libgearman/lib/pkgconfig cc prog.c $(pkg-config --cflags --libs libgearman)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(realpath -m "${1:-target/libgearman}")
cargo build --release --quiet -p gearman-ffi
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
install -m 755 target/release/libgearman.so "$prefix/lib/libgearman.so.8"
ln -sf libgearman.so.8 "$prefix/lib/libgearman.so"
install -m 644 target/release/libgearman.a "$prefix/lib/libgearman.a"
cp -r include/. "$prefix/include/"
sed "s|@PREFIX@|$prefix|" gearman-ffi/libgearman.pc.in > "$prefix/lib/pkgconfig/libgearman.pc"
echo "installed libgearman into $prefix"
