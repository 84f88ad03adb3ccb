#!/usr/bin/env bash
# install-clients.sh: installs the Debian packages the interop tests and the
# benchmarks run as peers (the servers' own packages are installed by their
# start scripts). Only what is missing; apt-get update only when needed.
set -euo pipefail
# pyarrow, the library stacpkg and stac-geoparquet read and write with, in a
# venv of the project's: only where a package index answers (its tests skip
# without it, naming the reason).
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/pyarrow"
if ! "$venv/bin/python" -c "import pyarrow" >/dev/null 2>&1; then
  if ! { python3 -m venv "$venv" && timeout 300 "$venv/bin/pip" install -q --retries 0 pyarrow; } >/dev/null 2>&1; then
    echo "[install-clients] pyarrow could not be installed (no package index?): its interop tests will skip" >&2
  fi
fi
need=()
for p in awscli python3-swiftclient rclone skopeo tar curl openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
[ "${#need[@]}" -eq 0 ] && exit 0
echo "[install-clients] installing: ${need[*]}" >&2
SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
