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
# postgresql: the shared store is tested against a real server on loopback (and a private one, restarted)
# pulseaudio, pulseaudio-utils, libasound2-plugins: transcribe dictate records a real stream in a test, from the
#   monitor of a PulseAudio null sink (a user-mode daemon the test starts) through ALSA's pulse plugin
for p in libreoffice-writer chromium libportaudio2 postgresql pulseaudio pulseaudio-utils libasound2-plugins \
  ${TRANSCRIBE_TEST_DEBIAN_PACKAGES:-}; do need "$p"; done
if [ -n "$packages" ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found: install$packages by hand" >&2; exit 1; }
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi
# PostgreSQL for tests/test_postgres.py: role and database transcribe_test on 127.0.0.1:5432.
# A server that does not start is an error here, said loudly: the tests would otherwise skip (and fail in CI).
fail() { echo "install-system-packages.sh: $*" >&2; exit 1; }
command -v pg_lsclusters >/dev/null 2>&1 || fail "PostgreSQL is not installed (pg_lsclusters not found): apt-get install postgresql"
cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1 " " $2}')
[ -n "$cluster" ] || fail "no PostgreSQL cluster: create one with 'pg_createcluster --start 15 main' (your version)"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
if ! as_postgres pg_isready -q -h 127.0.0.1; then
  $as_root pg_ctlcluster $cluster start || fail "PostgreSQL cluster $cluster did not start; see its log (pg_lsclusters shows where)"
fi
ready=""
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  if as_postgres pg_isready -q -h 127.0.0.1; then ready=yes; break; fi
  sleep 1
done
[ -n "$ready" ] || fail "PostgreSQL cluster $cluster does not answer on 127.0.0.1:5432 after 20 s; see its log"
as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='transcribe_test'" | grep -q 1 \
  || as_postgres psql -qc "CREATE ROLE transcribe_test LOGIN PASSWORD 'transcribe_test'"
as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname='transcribe_test'" | grep -q 1 \
  || as_postgres psql -qc "CREATE DATABASE transcribe_test OWNER transcribe_test"
