/**
 * Validate benchmark: what answering a lock from listings buys over one HEAD
 * per row.
 *
 * `deno bench -A bench/validate_bench.ts` runs a small in-process bench on
 * the memory store (listing vs HEAD, 1000 rows).
 * `deno run -A bench/validate_bench.ts [COUNT]` (default 2000; the figure is 10000; needs the
 * Swift of tests/services/start.sh in the environment) writes COUNT small
 * objects under one prefix of a fresh Swift container (with `rclone copy`),
 * derives a lock from one listing, then times `validateLock()` by HEAD
 * (listing threshold ∞) and by listing (the default), and `rclone check`
 * (local folder vs the container, MD5 and `--size-only`) for comparison,
 * printing a Markdown section for bench/RESULTS.md.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { MemoryStore } from "../lib/stores/memory.ts";
import { putBytes } from "../lib/stores/ext.ts";
import { openLocation } from "../lib/stores/registry.ts";
import type { LockRow } from "../lib/lock/schema.ts";
import { validateLock } from "../lib/lock/validate.ts";

function memoryRows(store: MemoryStore, n: number): Promise<LockRow[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const key = `d/${i}.bin`;
    await putBytes(store, key, new Uint8Array(16).fill(i & 0xff));
    const meta = await store.head(key);
    return {
      item_id: `i${i}`,
      asset_key: "data",
      store_type: "memory",
      store_container: "bench",
      store_endpoint_url: null,
      key,
      size_bytes: meta.size,
      etag: meta.etag ?? null,
      last_modified: meta.lastModified?.toISOString() ?? null,
      checksum: null,
    } satisfies LockRow;
  }));
}

const memory = new MemoryStore();
const rowsPromise = memoryRows(memory, 1000);
const resolve = (l: { key: string }) => ({ store: memory, key: l.key });
Deno.bench("validateLock() 1000 memory rows by HEAD", { group: "validate" }, async () => {
  await validateLock([await rowsPromise], { resolve, listingThreshold: Infinity });
});
Deno.bench(
  "validateLock() 1000 memory rows by listing",
  { group: "validate", baseline: true },
  async () => {
    await validateLock([await rowsPromise], { resolve });
  },
);

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

async function rclone(args: string[]): Promise<{ seconds: number; code: number; out: string }> {
  const env = {
    RCLONE_CONFIG_SW_TYPE: "swift",
    RCLONE_CONFIG_SW_AUTH: Deno.env.get("ST_AUTH")!,
    RCLONE_CONFIG_SW_USER: Deno.env.get("ST_USER")!,
    RCLONE_CONFIG_SW_KEY: Deno.env.get("ST_KEY")!,
  };
  const { seconds, value } = await timed(() =>
    new Deno.Command("rclone", { args, env, stdout: "piped", stderr: "piped" }).output()
  );
  return {
    seconds,
    code: value.code,
    out: new TextDecoder().decode(value.stderr).trim().split("\n").at(-1) ?? "",
  };
}

async function compare(count: number): Promise<void> {
  if (!Deno.env.get("ST_AUTH")) {
    throw new Error('ST_AUTH unset: eval "$(tests/services/start.sh)" first');
  }
  const container = `ferry-bench-${Date.now().toString(36)}`;
  const dir = await Deno.makeTempDir({ prefix: "ferry-validate-bench-" });
  try {
    for (let i = 0; i < count; i++) {
      await Deno.writeFile(
        `${dir}/obj-${String(i).padStart(6, "0")}.bin`,
        new Uint8Array(1024).fill(i & 0xff),
      );
    }
    const upload = await rclone(["copy", dir, `sw:${container}/data`, "--transfers", "16"]);
    if (upload.code !== 0) throw new Error(`rclone copy failed: ${upload.out}`);
    const { store } = openLocation(`swift://${container}/data/`);
    const rows: LockRow[] = [];
    for await (const entry of store.list("data/")) {
      if (entry.kind !== "object") continue;
      rows.push({
        item_id: entry.key,
        asset_key: "data",
        store_type: "swift",
        store_container: container,
        store_endpoint_url: null,
        key: entry.key,
        size_bytes: entry.size,
        etag: entry.etag ?? null,
        last_modified: entry.lastModified?.toISOString() ?? null,
        checksum: null,
      });
    }
    if (rows.length !== count) throw new Error(`listed ${rows.length} of ${count} objects`);
    const lines: string[] = [];
    for (
      const [name, threshold, workers] of [
        ["ferry validateLock() by HEAD, 8 workers", Infinity, 8],
        ["ferry validateLock() by HEAD, 16 workers", Infinity, 16],
        ["ferry validateLock() by listing, 8 workers", undefined, 8],
      ] as const
    ) {
      const { seconds, value } = await timed(() =>
        validateLock([rows], { listingThreshold: threshold, maxWorkers: workers })
      );
      const valid = value.results.filter((r) => r.valid).length;
      lines.push(
        `| ${name} | ${
          seconds.toFixed(2)
        } | ${value.stats.heads} HEAD, ${value.stats.listings} listing(s) | ${valid}/${count} valid |`,
      );
    }
    for (
      const [name, extra] of [
        ["rclone check (local vs swift, MD5)", []],
        ["rclone check --size-only", ["--size-only"]],
      ] as const
    ) {
      const r = await rclone(["check", dir, `sw:${container}/data`, "--checkers", "8", ...extra]);
      lines.push(
        `| ${name} | ${r.seconds.toFixed(2)} | not counted | exit ${r.code}: ${
          r.out.replace(/^.*NOTICE: /, "")
        } |`,
      );
    }
    console.log(
      [
        `### asset-lock validate: HEAD per row vs one listing (${count} objects of 1 KiB under one Swift prefix)`,
        "",
        `Local Swift (tests/services, 127.0.0.1:8080), 2 cores; ${
          new Date().toISOString().slice(0, 10)
        }; \`deno run -A bench/validate_bench.ts ${count}\`.`,
        "",
        "| what | seconds | requests | result |",
        "| --- | --- | --- | --- |",
        ...lines,
        "",
      ].join("\n"),
    );
    await rclone(["purge", `sw:${container}`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await compare(Number(Deno.args[0] ?? 2000));
