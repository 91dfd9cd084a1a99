#!/usr/bin/env sh
# Installs the Debian packages the test suite needs, when they are missing.
# Idempotent; uses sudo when not run as root. Safe to run on a machine that has them all.
set -eu
packages=""
need() { dpkg -s "$1" >/dev/null 2>&1 || packages="$packages $1"; }
# libreoffice-writer: reports must open without repair in LibreOffice (and PDF copies are made with it)
# chromium: the review app is tested in a real browser (Playwright drives Debian's chromium)
# libportaudio2: transcribe dictate records through PortAudio (the tests without a microphone still import it)
for p in libreoffice-writer chromium libportaudio2 ${TRANSCRIBE_TEST_DEBIAN_PACKAGES:-}; do need "$p"; done
[ -z "$packages" ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found: install$packages by hand" >&2; exit 1; }
as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $packages >/dev/null
