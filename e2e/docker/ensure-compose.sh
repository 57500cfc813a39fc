#!/usr/bin/env bash
# Makes `docker compose` (Compose v2) available: built once from the Go module proxy and cached by version
# under ~/.cache/dsm/compose-<version>/, then linked as the Docker CLI plugin ~/.docker/cli-plugins/docker-compose.
# `go install` refuses Compose because its go.mod has `exclude` lines, so it is built in a throw-away module
# that requires it and copies that block (docs/testing.md, "Docker engine and images").
#   DSM_COMPOSE_VERSION  (default v2.40.3)
#   DSM_CACHE            cache root (default ~/.cache/dsm)
set -euo pipefail

version=${DSM_COMPOSE_VERSION:-v2.40.3}
cache=${DSM_CACHE:-$HOME/.cache/dsm}
binary=$cache/compose-$version/docker-compose
plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

say() { printf 'ensure-compose: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

link_plugin() {
  mkdir -p "$plugin_dir"
  ln -sfn "$binary" "$plugin_dir/docker-compose"
}

if [ -x "$binary" ] && "$binary" version >/dev/null 2>&1; then
  link_plugin
  exit 0
fi

command -v go >/dev/null 2>&1 || die "Compose $version is built from source and needs the Go toolchain (go) on PATH"

module=$(mktemp -d)
trap 'rm -rf "$module"' EXIT
cd "$module"
say "building Compose $version from the Go module proxy (about 4 minutes cold)"
go mod init dsm.local/compose-build >/dev/null 2>&1
# The exclude block of Compose's own go.mod, copied verbatim.
gomod=$(go mod download -json "github.com/docker/compose/v2@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
[ -f "$gomod" ] || die "could not download github.com/docker/compose/v2@$version from the Go module proxy"
{
  printf '\nrequire github.com/docker/compose/v2 %s\n\n' "$version"
  sed -n '/^exclude (/,/^)/p' "$gomod"
  printf '\ntool github.com/docker/compose/v2/cmd\n'
} >>go.mod
go mod tidy >/dev/null 2>&1 || go mod tidy
mkdir -p "$(dirname "$binary")"
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" \
  -o "$binary.tmp" github.com/docker/compose/v2/cmd
mv "$binary.tmp" "$binary"
link_plugin
say "built $("$binary" version)"
