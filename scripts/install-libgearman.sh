#!/usr/bin/env bash
# Installs gearman-rs's libgearman the way Debian's libgearman8 and libgearman-dev lay it out:
#   PREFIX/lib/libgearman.so.8.0.0, with libgearman.so.8 and libgearman.so symlinks to it
#   PREFIX/lib/libgearman.a
#   PREFIX/include/libgearman.h and every header path libgearman 1.1 installs
#     (libgearman/gearman.h, libgearman-1.0/*.h, libgearman-1.0/interface/*.h, ostream.hpp)
#   PREFIX/lib/pkgconfig/gearmand.pc and libgearman.pc
# Usage: scripts/install-libgearman.sh [--prefix DIR] [--profile NAME] [--from DIR]
#   --prefix DIR    where to install (default: target/libgearman in this repository)
#   --profile NAME  cargo profile to build: release (default), debug, ...; honours CARGO_TARGET_DIR
#   --from DIR      install the libgearman.so and libgearman.a already built in DIR (no cargo run)
# Then a consumer finds it through pkg-config alone:
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig ./configure && make
#   cc prog.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs gearmand)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit "${1:-2}"
}
prefix=$root/target/libgearman
profile=release
from=
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix | --profile | --from) [ $# -ge 2 ] || usage ;;&
    --prefix) prefix=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --profile=*) profile=${1#*=}; shift ;;
    --from=*) from=${1#*=}; shift ;;
    -h | --help) usage 0 ;;
    *) echo "install-libgearman.sh: unknown argument $1" >&2; usage ;;
  esac
done
prefix=$(realpath -m "$prefix")
case "$prefix" in *'|'* | *' '*) echo "install-libgearman.sh: PREFIX may not contain '|' or spaces" >&2; exit 2 ;; esac

if [ -z "$from" ]; then
  # cargo names the dev profile's directory "debug".
  case "$profile" in
    debug | dev) cargo_profile=dev dir=debug ;;
    *) cargo_profile=$profile dir=$profile ;;
  esac
  (cd "$root" && "${CARGO:-cargo}" build --quiet --profile "$cargo_profile" -p gearman-ffi --lib)
  from=$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}/$dir")
fi
for artifact in libgearman.so libgearman.a; do
  [ -f "$from/$artifact" ] || { echo "install-libgearman.sh: no $from/$artifact" >&2; exit 1; }
done

lib=$prefix/lib
mkdir -p "$lib/pkgconfig" "$prefix/include"
install -m 755 "$from/libgearman.so" "$lib/libgearman.so.8.0.0"
ln -sfn libgearman.so.8.0.0 "$lib/libgearman.so.8"
ln -sfn libgearman.so.8.0.0 "$lib/libgearman.so"
install -m 644 "$from/libgearman.a" "$lib/libgearman.a"
(cd "$root/include" && find . -type f) | while read -r header; do
  install -D -m 644 "$root/include/$header" "$prefix/include/$header"
done
for name in gearmand libgearman; do
  sed -e '/^#/d' -e "s|@PREFIX@|$prefix|" -e "s|@NAME@|$name|" "$root/gearman-ffi/gearman.pc.in" \
    > "$lib/pkgconfig/$name.pc"
done
echo "installed libgearman into $prefix (PKG_CONFIG_PATH=$lib/pkgconfig)"
