#!/usr/bin/env bash
# `make run`: the app for development on http://127.0.0.1:${PORT:-8000} with DEBUG=1,
# together with a Celery worker and Celery beat. With no CELERY_BROKER_URL they use the
# embedded file-system transport under var/ (no Redis needed). Ctrl-C stops all three.
#
#   PORT=8001 make run      another port
#   HOST=0.0.0.0 make run   listen beyond loopback
#   OMS_SEED_DEMO=0         do not load the demo data into an empty database
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# Ctrl-C (SIGINT) is how this stops. A shell ignores a signal that was ignored when it started and cannot
# trap it: started in the background by a script (`make run &`, a test run in the background, CI) SIGINT
# arrives ignored, the trap below would never run and nothing would stop. Start again with SIGINT restored.
if [[ "$(trap -p INT)" == "trap -- '' SIGINT" ]]; then
    exec "$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp("bash", sys.argv[1:])' \
        bash "$ROOT/scripts/run.sh" "$@"
fi

export DEBUG=1
export DJANGO_SETTINGS_MODULE=oms.settings
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
VAR_DIR="${OMS_VAR_DIR:-$ROOT/var}"
# Links on labels and in e-mails point at this server unless SITE_URL says otherwise.
if [[ -z "${SITE_URL:-}" ]]; then
    url_host="$HOST"
    [[ "$url_host" == 0.0.0.0 ]] && url_host=127.0.0.1
    export SITE_URL="http://$url_host:$PORT"
fi
mkdir -p "$VAR_DIR"

(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "Port $PORT is in use: stop what runs there or use PORT=<other> make run"

log "Migrating the database"
"$PY" manage.py migrate --noinput

if [[ "${OMS_SEED_DEMO:-1}" == 0 ]]; then
    log "OMS_SEED_DEMO=0: not loading demo data"
elif "$PY" manage.py help seed_demo >/dev/null 2>&1; then
    has_orders="$("$PY" manage.py shell -c 'from orders.models import Order; print("has-orders:", Order.objects.exists())' |
        sed -n 's/^has-orders: //p' | tail -n 1)" || true
    case "$has_orders" in
    False)
        log "No orders yet: loading the demo data (manage.py seed_demo)"
        "$PY" manage.py seed_demo
        ;;
    True) log "The database has orders: not seeding" ;;
    *) warn "Could not tell whether the database has orders: not seeding" ;;
    esac
else
    warn "manage.py seed_demo does not exist yet: starting without demo data"
fi

# The embedded transport's folders must exist before the worker or beat starts.
"$PY" -c 'import django; django.setup(); from oms.celery import app, ensure_queue_dirs; ensure_queue_dirs(); print("Celery broker:", app.conf.broker_url.split("@")[-1])'

# Each child gets a process group of its own (job control), so stopping one stops everything
# it started (runserver's autoreloader child, prefork pool processes).
set -m
PIDS=()
NAMES=()
start() { # name command...
    local name="$1"
    shift
    "$@" &
    PIDS+=("$!")
    NAMES+=("$name")
}

stopping=0
stop_all() {
    [[ $stopping -eq 1 ]] && return
    stopping=1
    trap - INT TERM
    # Signal first, talk later: if our output went to a pipe that Ctrl-C closed, writing
    # must not kill this script before the children are stopped.
    trap '' PIPE
    local i pid alive
    for i in "${!PIDS[@]}"; do
        pid="${PIDS[$i]}"
        if [[ "${NAMES[$i]}" == web ]]; then
            # runserver's autoreloader parent would leave its serving child behind: stop the group.
            kill -TERM -- "-$pid" 2>/dev/null || true
        else
            # Celery shuts its own pool down (warm shutdown) on SIGTERM to the main process.
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    { echo && log "Stopping the web server, the worker and beat"; } || true
    # 15 s by the clock (not a count of sleeps, which a busy machine stretches), polled every 0.1 s.
    local deadline=$((SECONDS + 15))
    while ((SECONDS < deadline)); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    # Whatever is left after 15 s (a task that would not finish, a stray child) is killed.
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    log "Stopped" || true
}
# Ctrl-C (or a TERM from a supervisor) is the normal way to stop: a clean stop exits 0.
trap 'stop_all; exit 0' INT
trap 'stop_all; exit 0' TERM
trap 'stop_all' EXIT

# A development server is what this is; Django need not say so on every start.
export DJANGO_RUNSERVER_HIDE_WARNING=true
# As root (a fresh machine, a container) Celery warns about superuser privileges on every start;
# here that is the normal case, said once (oms/celery.py reads OMS_ROOT_WORKER_OK).
if [[ $EUID -eq 0 ]]; then
    log "Running as root: the Celery worker's superuser warning is silenced"
    export OMS_ROOT_WORKER_OK=1
fi
start worker "$PY" -m celery -A oms worker --loglevel=INFO --concurrency=2 --hostname="oms-dev@%h"
start beat "$PY" -m celery -A oms beat --loglevel=INFO --pidfile=
start web "$PY" manage.py runserver "$HOST:$PORT"

cat <<EOF

  OMS is starting on http://$HOST:$PORT/  (DEBUG=1; links in labels and e-mails: $SITE_URL)
  with a Celery worker and Celery beat ($( [[ -n "${CELERY_BROKER_URL:-}" ]] && echo "broker from CELERY_BROKER_URL" || echo "embedded file-system broker under ${VAR_DIR#"$ROOT"/}"))

  Demo logins (username / password):
    admin     / admin
    manager   / manager
    cs        / cs
    warehouse / warehouse

  Ctrl-C stops all three.

EOF

# Whichever stops first (a crash, or Ctrl-C), stop the others too.
set +e
wait -n "${PIDS[@]}"
rc=$?
if [[ $stopping -eq 0 ]]; then
    for i in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$i]}" 2>/dev/null || warn "${NAMES[$i]} exited (status $rc): stopping the rest"
    done
fi
exit "$rc"
