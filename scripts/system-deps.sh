#!/usr/bin/env bash
# Installs the system packages the platform needs (TTS and audio tools) when they are missing.
# With --browser also Debian's Chromium, which the browser tests (pytest -m browser) drive;
# where it cannot be installed those tests skip, except under CI (CI set), where they fail.
set -euo pipefail

need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox)
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "system-deps: missing ${need[*]} (Russian TTS, audio conversion, browser tests)"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing with apt-get: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
elif [ "${need[*]}" = "chromium" ] && [ -z "${CI:-}" ]; then
  echo "system-deps: the browser tests will skip; to run them: sudo apt-get install chromium" >&2
else
  echo "system-deps: please install them, e.g.: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
