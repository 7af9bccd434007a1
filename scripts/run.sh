#!/usr/bin/env bash
# Run the portal on the embedded default: SQLite and a bundled Redis under ./var (unless
# DATABASE_URL / REDIS_URL are set), a Celery worker with beat, uvicorn on http://127.0.0.1:8000.
EXTRAS="" source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python -m portal.launcher "$@"
