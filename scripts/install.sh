#!/usr/bin/env bash
# `make install`: the system packages the project needs (only those missing; a machine that
# has them all never touches apt), then .venv with requirements.lock (skipped while the stamp
# file is newer than requirements.lock). Safe to run again and again; CI runs it on a fresh
# Debian 12 machine as root with no stdin.
#
#   OMS_SKIP_APT=1   do not check or install system packages
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# --- System packages -------------------------------------------------------------------
# redis-server        the test command's Redis (broker and cache)
# poppler-utils       pdftotext/pdftoppm, for reading PDFs back in tests
# fonts-noto-cjk      Chinese text in PDFs and pages
# libharfbuzz-subset0 WeasyPrint's font subsetting (4x slower labels without it)
# chromium            browser tests (Playwright drives Debian's chromium)
# libpango-*          WeasyPrint
# fonts-dejavu-core   the Latin font of labels drawn on the canvas (oms/canvas_fonts.py)
# gettext             msgfmt: the translation catalogues (locale/, <app>/locale/) compiled at install
APT_PACKAGES=(redis-server poppler-utils fonts-noto-cjk libharfbuzz-subset0 chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext)

is_installed() {
    # dpkg -s exits 0 for packages that are merely known (e.g. removed, config files left):
    # look at the status line itself.
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

install_system_packages() {
    if [[ -n "${OMS_SKIP_APT:-}" ]]; then
        log "OMS_SKIP_APT set: not checking system packages"
        return
    fi
    if ! command -v dpkg-query >/dev/null; then
        warn "Not a Debian-like system (no dpkg): install these yourself: ${APT_PACKAGES[*]} and PostgreSQL"
        return
    fi
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    # PostgreSQL's server is preinstalled on the project's machines; install it where it is not.
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        missing+=(postgresql)
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "System packages: all present"
        return
    fi
    log "System packages missing: ${missing[*]}"
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "Not root and no password-less sudo: run as root: apt-get update && apt-get install -y ${missing[*]}"
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null
    # apt does not start services here, but where it does (a systemd machine) the test
    # command's own servers use their own ports, so the packaged ones may run or not.
}

# --- Python virtual environment --------------------------------------------------------
python_for_venv() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    die "Python 3.11 is required (Django 5.2 LTS; pyproject says >=3.11,<3.12)"
}

install_venv() {
    local stamp="$VENV/.requirements.stamp"
    if [[ ! -x "$VENV/bin/python" ]]; then
        local python
        python="$(python_for_venv)"
        log "Creating $VENV with $("$python" -V)"
        "$python" -m venv "$VENV" || die "python -m venv failed (on Debian: apt-get install python3-venv)"
        rm -f "$stamp"
    fi
    if [[ -f "$stamp" && "$stamp" -nt requirements.lock ]]; then
        log "Python packages: up to date (requirements.lock unchanged)"
        return
    fi
    log "Installing requirements.lock into $VENV"
    "$VENV/bin/python" -m pip install -q -r requirements.lock
    touch "$stamp"
}

# --- Translations -----------------------------------------------------------------------
# The .po catalogues are the source (in git); the .mo files Django reads are built here, every
# time (a second or two), so a changed catalogue is never served stale.
compile_translations() {
    if ! command -v msgfmt >/dev/null; then
        warn "msgfmt (gettext) is missing: pages stay in English until it is installed"
        return
    fi
    log "Compiling translations"
    (cd "$ROOT" && DJANGO_SETTINGS_MODULE=oms.settings DEBUG=1 "$VENV/bin/python" -m django compilemessages \
        --ignore '.venv' --ignore 'var' --ignore 'node_modules' --verbosity 0) ||
        die "compilemessages failed: a catalogue (.po) does not compile"
}

install_system_packages
install_venv
compile_translations
mkdir -p "$ROOT/var"
