#!/bin/sh
# The portal image's entry point: one image, four roles.
#   web      uvicorn (HTTP and websockets) on 0.0.0.0:${PORT:-8000}
#   worker   a Celery worker (${CELERY_CONCURRENCY:-2} processes); run as many replicas as you like
#   beat     Celery beat; exactly one
#   migrate  apply database migrations, then make sure an admin exists (PORTAL_ADMIN_USER/PASSWORD)
#   manage   any manage.py command, e.g. `manage rotate_encryption_key`
set -eu
cd /app
role=${1:-web}
[ $# -gt 0 ] && shift
case "$role" in
  web) exec uvicorn --host 0.0.0.0 --port "${PORT:-8000}" --ws websockets --lifespan off --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" portal.asgi:application ;;
  worker) exec celery -A portal worker --concurrency "${CELERY_CONCURRENCY:-2}" --loglevel INFO ;;
  beat) exec celery -A portal beat --loglevel INFO --schedule /tmp/celerybeat-schedule ;;
  migrate) python manage.py migrate --no-input && exec python manage.py ensure_admin ;;
  manage) exec python manage.py "$@" ;;
  *) exec "$role" "$@" ;;
esac
