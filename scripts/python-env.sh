#!/usr/bin/env bash
# Creates target/pyenv (maturin, pytest) and installs our Python module into it from
# bindings/python. Usage afterwards: target/pyenv/bin/python -c 'import gearman'
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x target/pyenv/bin/maturin ]; then
  python3 -m venv target/pyenv
  target/pyenv/bin/pip install -q "maturin>=1.9,<2" pytest
fi
# --no-build-isolation: use the maturin above instead of downloading one per build;
# --force-reinstall: an unchanged version number must not keep an older build installed.
PATH="$PWD/target/pyenv/bin:$PATH" target/pyenv/bin/pip install -q --no-build-isolation --force-reinstall --no-deps ./bindings/python
