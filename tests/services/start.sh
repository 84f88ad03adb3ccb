#!/usr/bin/env bash
# start.sh: starts every server the live tests use, on 127.0.0.1, and prints
# their environment as `export` lines (use: eval "$(tests/services/start.sh)").
#   - Swift (native API, s3api, tempurl, SLO, bulk) on 8080
#   - a second Swift with 3-second tokens on 8081 (re-auth tests)
#   - the CNCF distribution registry with htpasswd auth on 5000
# Idempotent: servers already up are reused. State: $FERRY_SERVICES_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}"
mkdir -p "$state"

# The peers the interop tests run (swift, aws, rclone, skopeo): on a fresh
# machine `deno task test` must pass by itself.
"$here/install-clients.sh" >&2

"$here/start-swift.sh" "$state/swift"

SWIFT_PROXY_PORT=8081 SWIFT_ACCOUNT_PORT=6212 SWIFT_CONTAINER_PORT=6211 SWIFT_OBJECT_PORT=6210 \
  SWIFT_MEMCACHED_PORT=11212 SWIFT_TOKEN_LIFE=3 \
  "$here/start-swift.sh" "$state/swift-short" |
  sed -n 's/^export ST_AUTH=/export SWIFT_SHORT_AUTH_URL=/p; s/^export SWIFT_STORAGE_URL=/export SWIFT_SHORT_STORAGE_URL=/p'

OCI_REGISTRY_AUTH=htpasswd "$here/start-registry.sh" "$state/registry"
echo "export FERRY_SERVICES_DIR=$state"
