#!/usr/bin/env bash
# bench/run.sh [items|items-floor|validate|transfer|oci|exchange]...: runs the benchmarks against their real peers
# (DuckDB, rclone) with the test servers up (via `deno task bench`). Each prints a Markdown
# table; bench/RESULTS.md keeps the measured ones. Default: all three.
set -euo pipefail
cd "$(dirname "$0")/.."
which=("$@")
[ "${#which[@]}" -gt 0 ] || which=(items items-floor validate transfer oci exchange)
for b in "${which[@]}"; do
  case "$b" in
    items) deno run -A bench/items_bench.ts "${FERRY_BENCH_ITEMS:-100000}" ;;
    items-floor) deno run -A bench/items_floor.ts "${FERRY_BENCH_ITEMS:-100000}" ;;
    validate) deno run -A bench/validate_bench.ts "${FERRY_BENCH_OBJECTS:-10000}" ;;
    transfer) deno run -A bench/transfer_bench.ts ${FERRY_BENCH_SMALL:+--small} ;;
    oci) deno run -A bench/oci_bench.ts ${FERRY_BENCH_SMALL:+--small} ;;
    exchange) deno run -A bench/exchange_bench.ts --files "${FERRY_BENCH_SHARD_FILES:-10000}" ;;
    *) echo "unknown benchmark: $b (items, items-floor, validate, transfer, oci, exchange)" >&2; exit 2 ;;
  esac
done
