/**
 * Transfer benchmark (issue 4): `ferry asset-lock relocate` against
 * `rclone copy`, file → Swift and Swift → file, on the same data, one process
 * per run, wall time and peak RSS from `/usr/bin/time -v`.
 *
 * `deno run -A bench/transfer_bench.ts [--small] [--runs N]` (needs the Swift
 * of tests/services/start.sh in the environment, `rclone` and `/usr/bin/time`):
 *
 * - data: 64 × 32 MiB + one 1 GiB random file (`--small`: 16 × 32 MiB +
 *   256 MiB) under `bench/data/transfer-*` (gitignored; kept between runs);
 * - ferry: a lock of the files (no checksum) → `asset-lock relocate` to a
 *   fresh container with the default pipeline (4 workers, 256 KiB chunks,
 *   256 MiB memory limit); SHA-256 (and MD5) computed in flight, the ETag
 *   checked against the MD5. Back: the destination lock (now with SHA-256)
 *   → `relocate --store-type file` to a fresh folder, verifying SHA-256.
 * - rclone: `rclone copy --checksum --transfers 4 --swift-chunk-size 1Gi`
 *   (ferry's SLO segment size is 1 GiB, so neither segments the 1 GiB
 *   object); rclone verifies MD5 only (Swift has no SHA-256).
 *
 * - ferry's floor: the same relocate of a lock of one 1 KiB file (peak RSS
 *   before any real transfer: runtime, modules, one object through).
 *
 * Both directions read the same source (the files; ferry's first upload).
 * Containers and output folders are deleted after use. Prints a Markdown
 * section for bench/RESULTS.md.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { writeLockParquetFile } from "../lib/lock/parquet.ts";
import type { LockRow } from "../lib/lock/schema.ts";

const MIB = 2 ** 20;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Measured {
  seconds: number;
  maxRssMiB: number;
  cpuSeconds: number;
  command: string;
}

function rcloneEnv(): Record<string, string> {
  return {
    RCLONE_CONFIG_SW_TYPE: "swift",
    RCLONE_CONFIG_SW_AUTH: Deno.env.get("ST_AUTH")!,
    RCLONE_CONFIG_SW_USER: Deno.env.get("ST_USER")!,
    RCLONE_CONFIG_SW_KEY: Deno.env.get("ST_KEY")!,
  };
}

/** Runs `argv` under `/usr/bin/time -v`; throws on a non-zero exit. */
async function measure(argv: string[], env: Record<string, string> = {}): Promise<Measured> {
  const start = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", ...argv],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) {
    throw new Error(`${argv.join(" ")} exited ${out.code}:\n${stderr.slice(-2000)}`);
  }
  const field = (name: string): number => {
    const m = stderr.match(new RegExp(`${name}[^:]*: ([\\d.]+)`));
    if (!m) throw new Error(`no "${name}" in /usr/bin/time output`);
    return Number(m[1]);
  };
  return {
    seconds,
    maxRssMiB: field("Maximum resident set size") / 1024,
    cpuSeconds: field("User time") + field("System time"),
    command: argv.join(" "),
  };
}

async function quiet(
  argv: string[],
  env: Record<string, string> = {},
  silent = false,
): Promise<void> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: ROOT,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.code !== 0 && !silent) {
    console.error(`(ignored) ${argv.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Writes `bytes` of random data to `path` unless it already has that size. */
async function randomFile(path: string, bytes: number): Promise<void> {
  try {
    if ((await Deno.stat(path)).size === bytes) return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const block = new Uint8Array(8 * MIB);
    for (let done = 0; done < bytes; done += block.byteLength) {
      for (let i = 0; i < block.byteLength; i += 65536) {
        crypto.getRandomValues(block.subarray(i, i + 65536));
      }
      const piece = block.subarray(0, Math.min(block.byteLength, bytes - done));
      for (let off = 0; off < piece.byteLength;) off += await file.write(piece.subarray(off));
    }
  } finally {
    file.close();
  }
}

async function purge(container: string): Promise<void> {
  await quiet(["rclone", "purge", `sw:${container}`], rcloneEnv());
  // Only there when an object was segmented.
  await quiet(["rclone", "purge", `sw:${container}_segments`], rcloneEnv(), true);
}

function best(runs: Measured[]): Measured {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

async function main(): Promise<void> {
  if (!Deno.env.get("ST_AUTH")) {
    throw new Error('ST_AUTH unset: eval "$(tests/services/start.sh)" first');
  }
  const small = Deno.args.includes("--small");
  const runsAt = Deno.args.indexOf("--runs");
  const runs = runsAt === -1 ? 1 : Number(Deno.args[runsAt + 1]);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError("Invalid --runs");
  const count = small ? 16 : 64;
  const bigBytes = small ? 256 * MIB : 1024 * MIB;
  const dataDir = `${ROOT}/bench/data/transfer-${small ? "small" : "full"}`;
  const srcDir = `${dataDir}/src`;
  await Deno.mkdir(srcDir, { recursive: true });
  const files: [string, number][] = [
    ...Array.from({ length: count }, (_, i) => [`obj-${String(i).padStart(3, "0")}.bin`, 32 * MIB]),
    ["big.bin", bigBytes],
  ] as [string, number][];
  console.error(`generating ${dataDir} ...`);
  for (const [name, bytes] of files) await randomFile(`${srcDir}/${name}`, bytes);
  const totalBytes = files.reduce((n, [, b]) => n + b, 0);
  const totalMiB = totalBytes / MIB;

  const srcLock = `${dataDir}/src.parquet`;
  const rows: LockRow[] = files.map(([name, bytes]) => ({
    item_id: "transfer",
    asset_key: name,
    store_type: "file",
    store_container: null,
    store_endpoint_url: null,
    key: `${srcDir}/${name}`,
    size_bytes: bytes,
    etag: null,
    last_modified: null,
    checksum: null,
  }));
  await writeLockParquetFile([rows], srcLock);

  const tag = Date.now().toString(36);
  // As the compiled binary runs (deno.json "compile" embeds the flag).
  const ferry = [
    "deno",
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    "cli.ts",
    "asset-lock",
    "relocate",
  ];
  const floorDir = `${dataDir}/floor`;
  await Deno.mkdir(floorDir, { recursive: true });
  await Deno.writeFile(`${floorDir}/one.bin`, new Uint8Array(1024));
  await writeLockParquetFile([[{
    ...rows[0]!,
    asset_key: "one.bin",
    key: `${floorDir}/one.bin`,
    size_bytes: 1024,
  }]], `${floorDir}/one.parquet`);
  const floorContainer = `ferry-bench-floor-${Date.now().toString(36)}`;
  const floor = await measure([
    ...ferry,
    `${floorDir}/one.parquet`,
    "--store-type",
    "swift",
    "--store-container",
    floorContainer,
    "--destination-lock",
    `${floorDir}/up.parquet`,
  ]);
  await purge(floorContainer);
  await Deno.remove(floorDir, { recursive: true });
  const upLock = `${dataDir}/up.parquet`;
  let source: string | undefined; // ferry's first upload, the source of the way back
  const results: Record<string, Measured[]> = {
    "ferry up": [],
    "rclone up": [],
    "ferry down": [],
    "rclone down": [],
  };
  const env = rcloneEnv();
  try {
    for (let r = 0; r < runs; r++) {
      const fc = `ferry-bench-up-${tag}-${r}`;
      console.error(`run ${r + 1}: ferry file → swift`);
      results["ferry up"]!.push(
        await measure([
          ...ferry,
          srcLock,
          "--store-type",
          "swift",
          "--store-container",
          fc,
          "--key",
          "up/",
          "--layout",
          "item-asset",
          "--max-workers",
          "4",
          "--destination-lock",
          r === 0 ? upLock : `${dataDir}/up-${r}.parquet`,
        ]),
      );
      if (r === 0) source = fc;
      else await purge(fc);
      const rc = `rclone-bench-up-${tag}-${r}`;
      console.error(`run ${r + 1}: rclone file → swift`);
      results["rclone up"]!.push(
        await measure([
          "rclone",
          "copy",
          srcDir,
          `sw:${rc}/up/transfer`,
          "--checksum",
          "--transfers",
          "4",
          "--swift-chunk-size",
          "1Gi",
        ], env),
      );
      await purge(rc);
    }
    for (let r = 0; r < runs; r++) {
      const out = `${dataDir}/down-ferry-${r}`;
      console.error(`run ${r + 1}: ferry swift → file`);
      results["ferry down"]!.push(
        await measure([
          ...ferry,
          upLock,
          "--store-type",
          "file",
          "--key",
          `${out}/`,
          "--layout",
          "item-asset",
          "--max-workers",
          "4",
          "--destination-lock",
          `${dataDir}/down-${r}.parquet`,
        ]),
      );
      await Deno.remove(out, { recursive: true });
      const rout = `${dataDir}/down-rclone-${r}`;
      console.error(`run ${r + 1}: rclone swift → file`);
      results["rclone down"]!.push(
        await measure([
          "rclone",
          "copy",
          `sw:${source}/up/transfer`,
          rout,
          "--checksum",
          "--transfers",
          "4",
        ], env),
      );
      await Deno.remove(rout, { recursive: true });
    }
  } finally {
    if (source) await purge(source);
    for await (const e of Deno.readDir(dataDir)) {
      if (e.name.endsWith(".parquet") || e.name.startsWith("down-")) {
        await Deno.remove(`${dataDir}/${e.name}`, { recursive: true });
      }
    }
  }

  const lines: string[] = [];
  for (
    const [direction, f, rc] of [["file → Swift", "ferry up", "rclone up"], [
      "Swift → file",
      "ferry down",
      "rclone down",
    ]] as const
  ) {
    const a = best(results[f]!);
    const b = best(results[rc]!);
    const all = (k: string) => results[k]!.map((m) => m.seconds.toFixed(1)).join(", ");
    lines.push(
      `| ${direction} | ${a.seconds.toFixed(1)} (${all(f)}) | ${
        (totalMiB / a.seconds).toFixed(0)
      } | ${a.maxRssMiB.toFixed(0)} | ${a.cpuSeconds.toFixed(1)} | ${b.seconds.toFixed(1)} (${
        all(rc)
      }) | ${(totalMiB / b.seconds).toFixed(0)} | ${b.maxRssMiB.toFixed(0)} | ${
        b.cpuSeconds.toFixed(1)
      } | ${(b.seconds / a.seconds).toFixed(2)}× | ${(a.maxRssMiB / b.maxRssMiB).toFixed(2)} |`,
    );
  }
  const show = (k: string) => best(results[k]!).command.replaceAll(ROOT + "/", "");
  console.log([
    `| direction | ferry s (all runs) | ferry MiB/s | ferry peak RSS MiB | ferry CPU s | rclone s (all runs) | rclone MiB/s | rclone peak RSS MiB | rclone CPU s | ferry/rclone throughput | ferry/rclone peak RSS |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...lines,
    "",
    `Data: ${count} × 32 MiB + 1 × ${bigBytes / MIB} MiB = ${totalMiB} MiB; ${runs} run(s) each.`,
    "",
    `ferry's floor: relocating one 1 KiB object to Swift peaks at ${
      floor.maxRssMiB.toFixed(0)
    } MiB RSS; half of rclone's best-run peaks: ${
      ["rclone up", "rclone down"].map((k) => (best(results[k]!).maxRssMiB / 2).toFixed(0)).join(
        " / ",
      )
    } MiB.`,
    "",
    "Commands (best run):",
    "",
    "```sh",
    ...["ferry up", "rclone up", "ferry down", "rclone down"].map(show),
    "```",
  ].join("\n"));
}

if (import.meta.main) await main();
