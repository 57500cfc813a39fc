#!/usr/bin/env bash
# Makes a Docker engine answer `docker info`: installs Debian's docker.io when no engine is installed, starts
# dockerd in the background when none runs (our machines have no systemd), and waits for it (bounded).
# dockerd keeps running after this script: later runs find it and return at once.
#   DSM_DOCKERD_LOG   where dockerd's log goes (default ~/.cache/dsm/dockerd.log)
#   DSM_DOCKERD_WAIT  seconds to wait for the engine (default 60)
set -euo pipefail

log_file=${DSM_DOCKERD_LOG:-$HOME/.cache/dsm/dockerd.log}
wait_seconds=${DSM_DOCKERD_WAIT:-60}

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || die "no Docker engine is installed and installing one needs root (apt-get install docker.io)"
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine is installed and this is not a Debian-like system: install Docker Engine 20.10+"
  say "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  say "dockerd runs but does not answer yet; waiting"
else
  [ "$(id -u)" -eq 0 ] || die "dockerd is not running and starting it needs root"
  mkdir -p "$(dirname "$log_file")"
  say "starting dockerd (log: $log_file)"
  # A session of its own: it outlives this script and the terminal or test run that started it.
  setsid dockerd >>"$log_file" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$wait_seconds"); do
  if docker info >/dev/null 2>&1; then
    say "engine $(docker version --format '{{.Server.Version}}') is up"
    exit 0
  fi
  sleep 1
done
say "dockerd did not answer within ${wait_seconds}s; the end of its log:"
tail -n 30 "$log_file" >&2 || true
exit 1
