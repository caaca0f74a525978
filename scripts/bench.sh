#!/usr/bin/env bash
# `make bench`: python bench/run.py against a throwaway PostgreSQL and Redis started the same
# way as for `make test` (but with PostgreSQL's default durability, so figures are honest),
# stopped again on exit. Arguments are passed on to bench/run.py: make bench ARGS="--quick".
#
# bench/run.py gets a migrated database and collected static files, and this environment:
#   DATABASE_URL, REDIS_URL, CELERY_BROKER_URL   the throwaway servers
#   DEBUG=0 with a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,localhost,testserver and no
#   TLS redirects or secure-only cookies (plain http on loopback)
#   OMS_VAR_DIR                                  a temporary folder
#   PYTHONPATH                                   the repository root (import oms, orders, ...)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [[ ! -f bench/run.py ]]; then
    warn "bench/run.py does not exist yet: nothing to benchmark"
    exit 0
fi

start_services
export DJANGO_SETTINGS_MODULE=oms.settings
# `python bench/run.py` puts bench/ first on sys.path; the project's packages must import too.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export DEBUG="${DEBUG:-0}"
export SECRET_KEY="${SECRET_KEY:-$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost,testserver}"
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0
export OMS_VAR_DIR="$SERVICES_DIR/var"
export CELERY_TASK_ALWAYS_EAGER="${CELERY_TASK_ALWAYS_EAGER:-0}"
mkdir -p "$OMS_VAR_DIR"

log "Preparing the benchmark database"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0

log "python bench/run.py $*"
"$PY" bench/run.py "$@"
