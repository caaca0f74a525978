#!/usr/bin/env bash
# `make test`: everything CI checks, in one go. Starts a throwaway PostgreSQL and Redis
# (stopped again on exit, whatever happens), then runs every step below, carries on past a
# failing step so one run shows all problems, prints a summary and exits non-zero if any
# step failed.
#
#   1. ruff check .
#   2. manage.py check
#   3. manage.py makemigrations --check --dry-run
#   4. manage.py check --deploy --fail-level WARNING   (production-like environment)
#   5. pytest, PostgreSQL + Redis lane: the whole suite; postgres/redis/browser tests must
#      run (OMS_REQUIRE_ALL=1 turns their skips into failures). First the `serial` tests, one at
#      a time (they restart PostgreSQL, run real Celery workers, drive the browser: nothing may
#      run beside them), then all the others in parallel (pytest-xdist; each worker has its own
#      test database and Redis cache database, see tests/settings.py)
#   6. pytest, SQLite lane: -m "not postgres and not redis and not browser", on SQLite with
#      eager Celery; its serial tests first, then the others in parallel (pytest-xdist)
#
#   make test-fast          only step 6 (no services needed)
#   PYTEST_ARGS="-k foo"    extra pytest arguments for every pytest step
#   OMS_TEST_WORKERS=0      run the parallel steps without xdist (default 2 workers)
#   OMS_TEST_TIMEOUT=1800   seconds one pytest lane may take before it is stopped
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

FAST=0
[[ "${1:-}" == --fast ]] && FAST=1

# JUnit files of this run (for CI to keep); everything else a run writes goes to a temporary
# folder removed on exit.
ARTIFACTS="$ROOT/test-artifacts"
mkdir -p "$ARTIFACTS"
RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/oms-test.XXXXXX")"
JUNIT_FILES=()
cleanup() {
    stop_services
    rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The defaults tests/conftest.py sets too. They must be in the environment already:
# pytest-django imports the settings before any conftest.py runs. Forced, not defaulted, so
# a developer's shell cannot make the run differ from CI's.
# The documented settings (README "Configuration") are unset too: a run depends on none of them.
for var in $(compgen -e); do
    case "$var" in
    OMS_TEST_* | OMS_PG_PORT | OMS_REDIS_PORT | OMS_KEEP_SERVICE_LOGS | OMS_SKIP_APT | OMS_DOCS_OUT) ;;
    OMS_* | REPORTS_* | TRACKING_* | INTAKE_* | IMPORT_* | EASYPOST_* | AFTERSHIP_* | KDNIAO_* | EMAIL_* | SECURE_* | SQLITE_*) unset "$var" ;;
    SITE_URL | TIME_ZONE | ALLOWED_HOSTS | CSRF_TRUSTED_ORIGINS | SECRET_KEY | CONN_MAX_AGE | DEFAULT_FROM_EMAIL) unset "$var" ;;
    SIGNATURE_VALUE_THRESHOLD | INSURANCE_VALUE_THRESHOLD | RETURN_WINDOW_DAYS | ZPL_FONT | LOG_LEVEL) unset "$var" ;;
    esac
done
export DEBUG=1
export OMS_TESTING=1
export CELERY_TASK_ALWAYS_EAGER=1
unset REPORTS_DATABASE_URL DATABASE_URL CELERY_BROKER_URL REDIS_URL
# Keep the tests' files (SQLite files, media, queue folders) away from a developer's var/.
export OMS_VAR_DIR="$RUN_TMP/var"
mkdir -p "$OMS_VAR_DIR"

declare -a STEP_NAMES=() STEP_RESULTS=()
LANE_ENV=(env)
FAILED=0

record() { # name status
    STEP_NAMES+=("$1")
    STEP_RESULTS+=("$2")
    [[ "$2" == ok* || "$2" == "empty (allowed)" ]] || FAILED=1
}

step() { # name command...
    local name="$1"
    shift
    log "$name"
    local start=$SECONDS
    if "$@"; then
        record "$name" "ok ($((SECONDS - start)) s)"
    else
        local rc=$?
        record "$name" "FAILED (exit $rc)"
    fi
}

# timeout kills the whole process group (pytest and anything it started) in CI; on a
# terminal it stays in the foreground so Ctrl-C still reaches pytest.
TIMEOUT=(timeout --kill-after=30 "${OMS_TEST_TIMEOUT:-1800}")
[[ -t 0 ]] && TIMEOUT=(timeout --foreground --kill-after=30 "${OMS_TEST_TIMEOUT:-1800}")

# pytest_lane name allow_empty pytest-args...   (LANE_ENV: an env(1) prefix for the lane)
# Exit 5 (no tests collected): a failure for a lane that runs the whole suite; allowed, but
# said loudly, for a lane that selects by marker and may legitimately select nothing.
pytest_lane() {
    local name="$1" allow_empty="$2"
    shift 2
    log "$name"
    local start=$SECONDS rc=0 junit="$ARTIFACTS/junit-${name// /-}.xml"
    rm -f "$junit"
    JUNIT_FILES+=("$junit")
    # shellcheck disable=SC2086
    "${TIMEOUT[@]}" "${LANE_ENV[@]}" "$PY" -m pytest --junitxml="$junit" "$@" ${PYTEST_ARGS:-} || rc=$?
    case "$rc" in
    0) record "$name" "ok ($((SECONDS - start)) s)" ;;
    5)
        if [[ "$allow_empty" == yes ]]; then
            warn "$name: selected no tests (pytest exit 5); allowed for a marker-selected lane"
            record "$name" "empty (allowed)"
        else
            record "$name" "FAILED (no tests collected)"
        fi
        ;;
    124 | 137) record "$name" "FAILED (timed out after ${OMS_TEST_TIMEOUT:-1800} s)" ;;
    *) record "$name" "FAILED (pytest exit $rc)" ;;
    esac
}

# The parallel steps' xdist arguments (none with OMS_TEST_WORKERS=0).
XDIST=()
[[ "${OMS_TEST_WORKERS:-2}" != 0 ]] && XDIST=(-n "${OMS_TEST_WORKERS:-2}")

postgres_lane() {
    # Each step runs part of the whole suite, so an empty one is a failure, unless PYTEST_ARGS
    # narrows the run (e.g. -k foo matches no serial test).
    local allow_empty=no
    [[ -n "${PYTEST_ARGS:-}" ]] && allow_empty=yes
    # The serial tests first: they restart PostgreSQL and kill workers, which would hit any test
    # running beside them.
    pytest_lane "postgres serial" "$allow_empty" -m "serial"
    pytest_lane "postgres lane" "$allow_empty" -m "not serial" "${XDIST[@]}"
}

sqlite_lane() {
    local only="not postgres and not redis and not browser"
    # No DATABASE_URL: the embedded SQLite default; no broker: tasks run eagerly.
    LANE_ENV=(env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u REPORTS_DATABASE_URL)
    pytest_lane "sqlite serial" yes -m "serial and $only"
    pytest_lane "sqlite lane" yes -m "not serial and $only" "${XDIST[@]}"
    LANE_ENV=(env)
}

check_deploy() {
    local key
    key="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')"
    env -u OMS_TESTING DEBUG=0 SECRET_KEY="$key" ALLOWED_HOSTS=oms.example.com SITE_URL=https://oms.example.com \
        "$PY" manage.py check --deploy --fail-level WARNING
}

summary() {
    echo
    log "Summary"
    local i
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-45s %s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}"
    done
    # One closing line with the test counts of all lanes, read from their JUnit files.
    "$PY" - "${JUNIT_FILES[@]}" <<'EOF'
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        tests, fail = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0))
        passed += tests - fail - skip
        failed += fail
        skipped += skip
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
EOF
}

if [[ $FAST -eq 1 ]]; then
    sqlite_lane
    summary
    exit "$FAILED"
fi

OMS_OWN_TRAPS=1 start_services fast
export OMS_REQUIRE_ALL=1

step "ruff check" ruff check .
step "manage.py check" "$PY" manage.py check
step "makemigrations --check" "$PY" manage.py makemigrations --check --dry-run
step "check --deploy (DEBUG off)" check_deploy
postgres_lane
sqlite_lane
summary
if [[ $FAILED -ne 0 ]]; then
    warn "make test: FAILED (see the summary above)"
    exit 1
fi
log "make test: all steps passed"
