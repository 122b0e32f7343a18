#!/usr/bin/env bash
# Set up a fresh Debian machine (Python 3.11) for Vault Workstation, then either launch
# the application on a demo store or run the whole test suite.
#   bash packaging/setup.sh demo   # install, build the demo store once, start the app
#   bash packaging/setup.sh test   # install (with PostgreSQL, Xvfb, zbar, poppler), run every test
#   bash packaging/setup.sh lint   # install, then ruff (lint + format check) and mypy, as CI does
set -euo pipefail
mode="${1:-demo}"
cd "$(dirname "$0")/.."

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi

qt_libs="libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libx11-6 libxkbcommon0 libdbus-1-3 \
fonts-dejavu-core xvfb xauth libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-sync1 \
libxcb-shm0 python3-venv"
test_tools="postgresql zbar-tools poppler-utils"
packages="$qt_libs"
[ "$mode" = "test" ] && packages="$packages $test_tools"

missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  # shellcheck disable=SC2086
  $sudo_cmd apt-get install -y -qq --no-install-recommends $missing
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then "$python" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
export LANG=C.UTF-8

case "$mode" in
  demo)
    export BACKOFFICE_DB="${BACKOFFICE_DB:-sqlite:///$PWD/demo-store.sqlite}"
    if [ ! -f demo-store.sqlite ] || ! BACKOFFICE_PIN=900000 .venv/bin/backoffice --user admin users list </dev/null >/dev/null 2>&1; then
      rm -f demo-store.sqlite*
      .venv/bin/backoffice demo --scale "${DEMO_SCALE:-small}"
    fi
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      echo "No display: starting the app on a virtual screen (xvfb-run)." >&2
      exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/vault-workstation
    fi
    exec .venv/bin/vault-workstation
    ;;
  lint)
    .venv/bin/ruff check backoffice ui tests
    .venv/bin/ruff format --check backoffice ui tests
    .venv/bin/mypy
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen REQUIRE_POSTGRES=1
    exec .venv/bin/python -m pytest -q "${@:2}"
    ;;
  *)
    echo "usage: bash packaging/setup.sh demo|test|lint" >&2
    exit 2
    ;;
esac
