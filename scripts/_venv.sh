# Sourced by run.sh and test.sh: make .venv (Python 3.11+) and install the project with EXTRAS,
# skipping pip when pyproject.toml has not changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  python=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python=$candidate; break
    fi
  done
  [ -n "$python" ] || { echo "Python 3.11 or newer is needed (python3.11 not found)." >&2; exit 1; }
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${EXTRAS:-base}"
if [ ! -e "$stamp" ]; then
  echo "Installing into .venv (log: .venv/pip.log)…"
  if ! { .venv/bin/python -m pip install --upgrade pip &&
         .venv/bin/python -m pip install -e ".${EXTRAS:+[$EXTRAS]}"; } >.venv/pip.log 2>&1; then
    tail -n 30 .venv/pip.log >&2; echo "pip install failed; see .venv/pip.log" >&2; exit 1
  fi
  touch "$stamp"
fi
