# The DSM images: one multi-stage file, one target per image.
#   core     dsm-core: the core node (client API 7545, P2P/admin/metrics 8765)
#   storage  dsm-storage: a storage node (8765)
#   bridge   dsm-bridge: the Ethereum bridge (8768)
#   operator dsm-operator: the DSMCluster operator (metrics 8080, health 8081), for Kubernetes only
#   evm      the EVM dev chain of compose/ (hardhat's node on 8545, chain 31337): development only
# Every image runs Node.js 24 as PID 1 on a root of its own (glibc and libstdc++ from Debian, node, sh, env,
# cat, ls, id, ping; no package manager, compiler or npm), as user 1000:1000, with a read-only root
# filesystem: only the volumes below are written. `/usr/local/bin/cli` is the dsm CLI and the health check
# (`cli status --json`).
#
# Build them with compose (compose/README.md), or one at a time:
#   docker build --target core --build-arg REVISION=$(git rev-parse HEAD) -t dsm-core .
# Behind a TLS-intercepting proxy npm needs the proxy's CA: pass a bundle as a BuildKit secret (it is mounted
# for the npm steps only and never stored in a layer):
#   docker build --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt --target core .
# The base is made locally by e2e/docker/base-image.sh where no registry can be reached.

FROM node:24-bookworm-slim AS base
WORKDIR /app

# ---- npm ci's inputs (manifests, lockfile): the install layers stay cached while only sources change
FROM base AS manifests
COPY . /src
RUN cd /src && node scripts/image.mjs manifests /manifests

# ---- every dependency, for the build
FROM base AS deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=secret,id=npm-ca,required=false \
    --mount=type=cache,id=dsm-npm,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm-ca ]; then export npm_config_cafile=/run/secrets/npm-ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn

# ---- the packages the images run, compiled; their package.json and "files" in /out
FROM deps AS build
COPY . .
RUN packages="@dsm/cli @dsm/core @dsm/storage @dsm/bridge" \
 && node_modules/.bin/tsc -b $(node scripts/image.mjs workspaces $packages) \
 && node scripts/image.mjs copy-workspaces /out $packages

# ---- their production dependencies, without types, sources, maps and other platforms' native builds
FROM base AS prod-deps
COPY --from=manifests /manifests/ ./
COPY scripts/image.mjs scripts/
RUN --mount=type=secret,id=npm-ca,required=false \
    --mount=type=cache,id=dsm-npm,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm-ca ]; then export npm_config_cafile=/run/secrets/npm-ca; fi; \
    packages="@dsm/cli @dsm/core @dsm/storage @dsm/bridge" \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn \
      $(node scripts/image.mjs workspaces $packages | sed 's/^/--workspace=/') \
 && node scripts/image.mjs prune node_modules $packages

# ---- the operator, compiled and bundled into one file with what it runs of its dependencies
#      (operator/scripts/bundle.mjs says why): the image needs no node_modules
FROM deps AS operator-build
COPY . .
RUN node_modules/.bin/tsc -b $(node scripts/image.mjs workspaces @dsm/operator) \
 && node operator/scripts/bundle.mjs

# ---- the dev chain: hardhat (a devDependency of @dsm/bridge, at the lockfile's version) and what it runs with
FROM deps AS evm-deps
COPY scripts/image.mjs scripts/
RUN node scripts/image.mjs copy-closure /out hardhat && node scripts/image.mjs prune /out/node_modules
COPY compose/dev-chain/package.json compose/dev-chain/hardhat.config.js compose/dev-chain/evm.mjs /out/

# ---- the runtime root: node (stripped), dash as sh, env, cat, ls, id, ping, the shared libraries they and the native
# addons of the images load, users, and the data folders owned by 1000:1000 (named volumes start as copies)
FROM base AS system
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils iputils-ping libatomic1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=prod-deps /app/node_modules /addons/app
COPY --from=evm-deps /out/node_modules /addons/evm
RUN set -eu; r=/rootfs; \
    mkdir -p $r/usr/bin $r/usr/lib $r/usr/local/bin $r/etc $r/tmp $r/app $r/home/node \
      $r/var/lib/dsm/data $r/var/lib/dsm/config $r/var/lib/dsm/policies \
      $r/var/lib/dsm-storage/data $r/var/lib/dsm-storage/config \
      $r/var/lib/dsm-bridge/data $r/var/lib/dsm-bridge/config; \
    for d in bin sbin lib lib64; do if [ -L /$d ]; then ln -s "$(readlink /$d)" $r/$d; fi; done; \
    strip --strip-unneeded -o $r/usr/local/bin/node /usr/local/bin/node; \
    # a plain copy: ping's file capability stays behind (it uses ICMP datagram sockets, with no capability)
    cp /usr/bin/dash /usr/bin/env /usr/bin/cat /usr/bin/ls /usr/bin/id /usr/bin/ping $r/usr/bin/; ln -s dash $r/usr/bin/sh; \
    elves="/usr/local/bin/node $r/usr/bin/dash $r/usr/bin/env $r/usr/bin/cat $r/usr/bin/ls $r/usr/bin/id $r/usr/bin/ping $(find /addons -name '*.node')"; \
    # each library at its real path, and its name as ldd found it (/lib64/ld-linux..., libstdc++.so.6) as a link
    for lib in $(for e in $elves; do ldd "$e"; done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u); do \
      real=$(readlink -f "$lib"); mkdir -p "$r$(dirname "$real")"; cp "$real" "$r$real"; \
      dir=$(readlink -f "$(dirname "$lib")"); name=$dir/$(basename "$lib"); \
      if [ "$name" != "$real" ]; then mkdir -p "$r$dir"; ln -sf "$real" "$r$name"; fi; \
      { dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || true; } | cut -d: -f1 >> /tmp/packages; \
    done; \
    for p in dash coreutils iputils-ping $(sort -u /tmp/packages); do \
      if [ -f /usr/share/doc/$p/copyright ]; then mkdir -p $r/usr/share/doc/$p; cp /usr/share/doc/$p/copyright $r/usr/share/doc/$p/; fi; \
    done; \
    cp /etc/nsswitch.conf $r/etc/; cp /usr/lib/os-release $r/usr/lib/; ln -s ../usr/lib/os-release $r/etc/os-release; \
    printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > $r/etc/passwd; \
    printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > $r/etc/group; \
    chmod 1777 $r/tmp; \
    chown -R 1000:1000 $r/home/node $r/var/lib/dsm $r/var/lib/dsm-storage $r/var/lib/dsm-bridge; \
    ln -s /app/workloads/cli/bin/dsm.js $r/usr/local/bin/cli; ln -s /app/workloads/cli/bin/dsm.js $r/usr/local/bin/dsm

FROM scratch AS runtime
COPY --from=system /rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin NODE_ENV=production HOME=/home/node
USER 1000:1000
WORKDIR /app

# ---- the services: one app (the CLI needs every service's settings), a target each
FROM runtime AS app
COPY --from=prod-deps /app/node_modules /app/node_modules
COPY --from=build /out/ /app/
ARG SOURCE=https://github.com/cryptskii/self_evolving_cryptographic_identification
ARG REVISION=unknown
LABEL org.opencontainers.image.source=$SOURCE \
      org.opencontainers.image.revision=$REVISION \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.vendor="DSM"

FROM app AS core
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title=dsm-core \
      org.opencontainers.image.description="DSM core node: hosted identities, token operations under CTPA policies, client API" \
      org.opencontainers.image.version=$VERSION
VOLUME ["/var/lib/dsm/data", "/var/lib/dsm/config", "/var/lib/dsm/policies"]
EXPOSE 7545 8765
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/cli", "status", "--json", "--timeout", "3000"]
CMD ["node", "/app/workloads/core/dist/main.js"]

FROM app AS storage
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title=dsm-storage \
      org.opencontainers.image.description="DSM storage node: the replicated directory of states, tokens, policies and inboxes" \
      org.opencontainers.image.version=$VERSION
# The CLI in this image talks to this node: `cli status`, `cli config set`, `cli topology add-peer`.
ENV DSM_URL=http://127.0.0.1:8765 DSM_ADMIN_URL=http://127.0.0.1:8765
VOLUME ["/var/lib/dsm-storage/data", "/var/lib/dsm-storage/config"]
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/cli", "status", "--json", "--timeout", "3000"]
CMD ["node", "/app/workloads/storage/dist/main.js"]

FROM app AS bridge
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title=dsm-bridge \
      org.opencontainers.image.description="DSM Ethereum bridge: DSM tokens to wrapped ERC-20s and back" \
      org.opencontainers.image.version=$VERSION
COPY compose/dev-chain/bridge.mjs /app/dev-chain/bridge.mjs
# The bridge's folders (its schema's defaults are the core's /var/lib/dsm paths); the CLI talks to this bridge.
ENV DSM_BRIDGE_DATA_DIR=/var/lib/dsm-bridge/data DSM_BRIDGE_CONFIG_DIR=/var/lib/dsm-bridge/config \
    DSM_URL=http://127.0.0.1:8768 DSM_BRIDGE_URL=http://127.0.0.1:8768
VOLUME ["/var/lib/dsm-bridge/data", "/var/lib/dsm-bridge/config"]
EXPOSE 8768
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["/usr/local/bin/cli", "status", "--json", "--timeout", "3000"]
CMD ["node", "/app/workloads/bridge/dist/main.js"]

FROM runtime AS operator
COPY --from=operator-build /app/operator/dist/bundle/dsm-operator.mjs /app/dsm-operator.mjs
ARG SOURCE=https://github.com/cryptskii/self_evolving_cryptographic_identification
ARG REVISION=unknown
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title=dsm-operator \
      org.opencontainers.image.description="DSM operator: runs DSMCluster resources as monitored DSM networks on Kubernetes" \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.source=$SOURCE \
      org.opencontainers.image.revision=$REVISION \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.vendor="DSM"
EXPOSE 8080 8081
# Kubernetes probes /healthz itself; this is for `docker run`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.DSM_OPERATOR_HEALTH_PORT || 8081}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# operator/src/node-flags.ts explains this environment and these flags (and its test keeps them equal).
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--optimize-for-size", "--max-semi-space-size=1", "--max-old-space-size=128", "--heap-growing-percent=10", "--no-opt", "--no-maglev", "/app/dsm-operator.mjs"]

FROM runtime AS evm
COPY --from=evm-deps /out/ /opt/evm/
ARG SOURCE=https://github.com/cryptskii/self_evolving_cryptographic_identification
ARG REVISION=unknown
ARG VERSION=3.18.0
LABEL org.opencontainers.image.title=dsm-evm-devchain \
      org.opencontainers.image.description="EVM dev chain for the DSM compose stack (hardhat node, chain 31337); development only" \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.source=$SOURCE \
      org.opencontainers.image.revision=$REVISION \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.vendor="DSM"
WORKDIR /opt/evm
# Hardhat writes its caches under HOME: /tmp, a tmpfs in compose.
ENV HOME=/tmp
EXPOSE 8545
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/opt/evm/evm.mjs", "health"]
CMD ["node", "/opt/evm/evm.mjs"]
