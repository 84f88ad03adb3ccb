#!/usr/bin/env bash
# stop.sh: stops exactly the servers start.sh started (by their pid files).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}"
"$here/stop-registry.sh" "$state/registry"
"$here/stop-swift.sh" "$state/swift-short"
"$here/stop-swift.sh" "$state/swift"
