#!/usr/bin/env bash
# Installs the Debian packages the demo and the tests use, if any is missing.
set -euo pipefail
packages=(gearman-job-server gearman-tools libgearman-dev pkg-config php-cli php-dev php-gearman libclang-dev valgrind gcc g++ autoconf redis-server postgresql postgresql-server-dev-15 mariadb-server stunnel4 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # The extension's headers must match the server it loads into: when they are missing,
  # postgresql-15 is brought to the same (newest) version with them.
  [[ " ${missing[*]} " == *" postgresql-server-dev-15 "* ]] && missing+=(postgresql-15)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
