#!/usr/bin/env sh
# Installs the Debian packages the test suite needs, when they are missing, and starts PostgreSQL
# on loopback with a test role and database. Idempotent; uses sudo when not run as root.
set -eu
packages=""
need() { dpkg -s "$1" >/dev/null 2>&1 || packages="$packages $1"; }
as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
# libreoffice-writer: reports must open without repair in LibreOffice (and PDF copies are made with it)
# chromium: the review app is tested in a real browser (Playwright drives Debian's chromium)
# libportaudio2: transcribe dictate records through PortAudio (the tests without a microphone still import it)
# postgresql: the shared store is tested against a real server on loopback
for p in libreoffice-writer chromium libportaudio2 postgresql ${TRANSCRIBE_TEST_DEBIAN_PACKAGES:-}; do need "$p"; done
if [ -n "$packages" ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found: install$packages by hand" >&2; exit 1; }
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi
# PostgreSQL for tests/test_postgres.py: role and database transcribe_test on 127.0.0.1:5432
if command -v pg_lsclusters >/dev/null 2>&1; then
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1 " " $2}')
  if [ -n "$cluster" ]; then
    $as_root pg_ctlcluster $cluster start 2>/dev/null || true
    as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
    for _ in 1 2 3 4 5 6 7 8 9 10; do as_postgres pg_isready -q -h 127.0.0.1 && break; sleep 1; done
    as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='transcribe_test'" | grep -q 1 \
      || as_postgres psql -qc "CREATE ROLE transcribe_test LOGIN PASSWORD 'transcribe_test'"
    as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname='transcribe_test'" | grep -q 1 \
      || as_postgres psql -qc "CREATE DATABASE transcribe_test OWNER transcribe_test"
  fi
fi
