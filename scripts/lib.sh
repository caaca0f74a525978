# Shared helpers for the scripts in this folder. Source it; do not run it.
#
#   ROOT   the repository root          VENV   its virtual environment (.venv)
#   PY     the venv's python
#
# start_services [fast]   starts a throwaway PostgreSQL and Redis on loopback, exports
#                         DATABASE_URL, REDIS_URL, CELERY_BROKER_URL and registers
#                         stop_services to run on exit (unless OMS_OWN_TRAPS=1: then the
#                         caller's EXIT trap must call it). "fast" turns off fsync (tests).
# stop_services           stops both and removes their data (idempotent).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
export PYTHONDONTWRITEBYTECODE="${PYTHONDONTWRITEBYTECODE:-1}"

if [[ -t 2 ]]; then
    _B=$'\033[1m' _Y=$'\033[1;33m' _R=$'\033[1;31m' _N=$'\033[0m'
else
    _B="" _Y="" _R="" _N=""
fi
log() { printf '%s==> %s%s\n' "$_B" "$*" "$_N" >&2; }
warn() { printf '%s!!! %s%s\n' "$_Y" "$*" "$_N" >&2; }
die() {
    printf '%sxxx %s%s\n' "$_R" "$*" "$_N" >&2
    exit 1
}

# A TCP port on 127.0.0.1 that nothing listens on, starting at $1.
free_port() {
    local port="$1"
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

# The newest PostgreSQL server's bin folder (Debian puts them in /usr/lib/postgresql/<version>/bin).
pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
        dir="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
    fi
    [[ -x "$dir/initdb" ]] || die "No PostgreSQL server found (initdb). Run 'make install' first."
    echo "$dir"
}

SERVICES_DIR=""
PG_BIN=""
PG_DATA=""
PG_PORT=""
REDIS_PORT=""

# Run a command as the PostgreSQL owner: initdb refuses to run as root.
_as_pg_owner() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_services() {
    local mode="${1:-}"
    [[ -z "$SERVICES_DIR" ]] || return 0
    # A caller with its own EXIT trap calls stop_services from it (and sets OMS_OWN_TRAPS=1).
    if [[ -z "${OMS_OWN_TRAPS:-}" ]]; then
        trap stop_services EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
    fi

    SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/oms-services.XXXXXX")"
    chmod 755 "$SERVICES_DIR"

    # PostgreSQL
    PG_BIN="$(pg_bindir)"
    PG_DATA="$SERVICES_DIR/pg"
    PG_PORT="$(free_port "${OMS_PG_PORT:-54329}")"
    mkdir -p "$PG_DATA"
    if [[ $EUID -eq 0 ]]; then
        getent passwd postgres >/dev/null || die "No 'postgres' user to run PostgreSQL as. Run 'make install' first."
        chown postgres: "$PG_DATA"
    fi
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DATA)"
    if ! _as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$SERVICES_DIR/initdb.log" 2>&1; then
        # Fall back for a machine without the C.UTF-8 locale.
        rm -rf "${PG_DATA:?}/data"
        _as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA/data" -U postgres --auth=trust -E UTF8 --no-locale \
            >"$SERVICES_DIR/initdb.log" 2>&1 || {
            cat "$SERVICES_DIR/initdb.log" >&2
            die "initdb failed"
        }
    fi
    local pg_opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA -c max_connections=200"
    if [[ "$mode" == fast ]]; then
        # A throwaway test database: durability buys nothing here.
        pg_opts="$pg_opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    _as_pg_owner "$PG_BIN/pg_ctl" -w -t 60 -D "$PG_DATA/data" -l "$PG_DATA/server.log" -o "$pg_opts" start \
        >/dev/null || {
        cat "$PG_DATA/server.log" >&2
        die "PostgreSQL did not start"
    }
    "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        -c "CREATE ROLE oms LOGIN SUPERUSER PASSWORD 'oms'" -c "CREATE DATABASE oms OWNER oms" >/dev/null ||
        die "Could not create the oms role and database"
    export DATABASE_URL="postgres://oms:oms@127.0.0.1:$PG_PORT/oms"
    # The fault tests (tests/oms/test_faults.py) restart this server mid-stream.
    export OMS_TEST_PG_CTL="$PG_BIN/pg_ctl" OMS_TEST_PG_DATA="$PG_DATA/data"

    # Redis
    command -v redis-server >/dev/null || die "redis-server is not installed. Run 'make install' first."
    REDIS_PORT="$(free_port "${OMS_REDIS_PORT:-63799}")"
    log "Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
        --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log" ||
        die "Redis did not start"
    local i
    for i in $(seq 1 100); do
        [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break
        [[ $i -eq 100 ]] && {
            cat "$SERVICES_DIR/redis.log" >&2
            die "Redis did not answer"
        }
        sleep 0.1
    done
    export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
    export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

stop_services() {
    local rc=$?
    [[ -n "$SERVICES_DIR" ]] || return "$rc"
    if [[ -n "$REDIS_PORT" ]]; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 ||
            { [[ -f "$SERVICES_DIR/redis.pid" ]] && kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null; } || true
    fi
    if [[ -n "$PG_DATA" && -f "$PG_DATA/data/postmaster.pid" ]]; then
        _as_pg_owner "$PG_BIN/pg_ctl" -w -t 30 -D "$PG_DATA/data" -m fast stop >/dev/null 2>&1 ||
            _as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [[ -n "${OMS_KEEP_SERVICE_LOGS:-}" ]]; then
        warn "Service logs kept in $SERVICES_DIR"
    else
        rm -rf "$SERVICES_DIR"
    fi
    SERVICES_DIR=""
    log "PostgreSQL and Redis stopped"
    return "$rc"
}
