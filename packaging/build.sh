#!/usr/bin/env bash
# Build the Linux bundle in dist/vault-workstation/ and prove it starts (offscreen self-test).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -e . "pyinstaller>=6.5"
.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build packaging/vault-workstation.spec
install -Dm644 packaging/vault-workstation.desktop dist/vault-workstation/vault-workstation.desktop
install -Dm644 resources/vault-workstation.svg dist/vault-workstation/vault-workstation.svg
smoke="$(mktemp -d)"
QT_QPA_PLATFORM=offscreen BACKOFFICE_DATA_DIR="$smoke" BACKOFFICE_LOG_DIR="$smoke" \
  dist/vault-workstation/backoffice --db "sqlite:///$smoke/store.sqlite" demo --scale small
QT_QPA_PLATFORM=offscreen BACKOFFICE_DATA_DIR="$smoke" BACKOFFICE_LOG_DIR="$smoke" \
  dist/vault-workstation/vault-workstation --db "sqlite:///$smoke/store.sqlite" --self-test
rm -rf "$smoke"
du -sh dist/vault-workstation
