#!/usr/bin/env bash
# `npm run test:e2e:monitoring`: promtool on compose/prometheus/ and every dashboard query and rule on a real
# Prometheus that scraped `npm run dev`'s network (e2e/monitoring/*.test.ts). Installs Debian's prometheus
# package first when promtool is missing (root). Extra arguments go to jest (e.g. --json --outputFile=...).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash e2e/monitoring/ensure-prometheus.sh
npm run build --silent
node_modules/.bin/tsc -p e2e/monitoring
exec node --experimental-vm-modules node_modules/jest/bin/jest.js --config e2e/monitoring/jest.config.js --runInBand "$@"
