#!/usr/bin/env bash
# Makes sure `prometheus` and `promtool` are on the PATH: installs Debian's `prometheus` package when
# promtool is missing (root and apt-get needed). The package's own service is never started: the tests
# run prometheus as a plain process with their own configuration and storage folder.
set -euo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "promtool is missing and there is no apt-get to install Debian's prometheus package: install Prometheus (>= 2.42) so that prometheus and promtool are on the PATH" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "promtool is missing: installing Debian's prometheus package needs root (sudo apt-get install -y prometheus)" >&2
  exit 1
fi
echo "installing Debian's prometheus package (for prometheus and promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d answers 101 to the package's start of its own service (no systemd here, and we do not want it).
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  own_policy=true
fi
status=0
{ apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; } >&2 || status=$?
if [ "$own_policy" = true ]; then rm -f "$policy"; fi
if [ "$status" -ne 0 ] || ! command -v promtool >/dev/null; then
  echo "could not install Debian's prometheus package (apt-get exit $status): promtool is needed by npm run test:e2e:monitoring" >&2
  exit 1
fi
promtool --version >&2
