#!/usr/bin/env bash
# with-services.sh CMD...: runs CMD with the live test servers up and their
# environment set. Servers that were not running before are stopped after.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
already_up=0
if curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8080/healthcheck 2>/dev/null &&
   curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8081/healthcheck 2>/dev/null &&
   curl -s -o /dev/null --max-time 2 http://127.0.0.1:5000/v2/ 2>/dev/null; then
  already_up=1
fi
if ! env_lines="$("$here/start.sh")"; then
  echo "with-services: could not start the test servers" >&2
  exit 1
fi
eval "$env_lines"
if [ "$already_up" = 0 ] && [ "${FERRY_KEEP_SERVICES:-0}" != 1 ]; then
  trap '"$here/stop.sh" >/dev/null 2>&1' EXIT
fi
"$@"
