#!/usr/bin/env bash
# ensure-peers.sh makes sure the real peers the tests use are installed: Prometheus + promtool, redis-server,
# Chromium, Alertmanager 0.25 + amtool (Debian's prometheus-alertmanager) and docker-compose (the stack tests).
# It says what it does; as root it installs missing ones with apt-get, otherwise it tells you how.
set -euo pipefail

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)

if [ ${#missing[@]} -eq 0 ]; then
  echo "peers: prometheus, promtool, redis-server, chromium, prometheus-alertmanager, amtool and docker-compose are installed"
  exit 0
fi

# De-duplicate (prometheus ships both binaries).
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "peers: missing Debian packages: $pkgs" >&2
  echo "peers: install them with: sudo apt-get install -y $pkgs" >&2
  exit 1
fi
echo "peers: installing missing Debian packages with apt-get: $pkgs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
echo "peers: installed $pkgs"
