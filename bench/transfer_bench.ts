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
 * - curl, the server-bound ceiling (a client that does no work: no hash, no
 *   check): 4 parallel `curl -T` PUTs (up) and `curl -o` GETs (down) with a
 *   TempAuth token, one per file.
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
import { randomFile } from "./_data.ts";
import { authenticate } from "../lib/stores/swift/auth.ts";

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

/**
 * Runs `argv` under `/usr/bin/time -v`; throws on a non-zero exit. Its stdout
 * goes to `stdoutPath` when given.
 */
async function measure(
  argv: string[],
  env: Record<string, string> = {},
  stdoutPath?: string,
): Promise<Measured> {
  const start = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", ...argv],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (stdoutPath) await Deno.writeFile(stdoutPath, out.stdout);
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

async function purge(container: string): Promise<void> {
  await quiet(["rclone", "purge", `sw:${container}`], rcloneEnv());
  // Only there when an object was segmented.
  await quiet(["rclone", "purge", `sw:${container}_segments`], rcloneEnv(), true);
}

/** A TempAuth token for the curl runs. */
/**
 * `xargs -P 4` running one curl per line of `listPath` (written here), the
 * token read from a header file so it never shows in a command line.
 */
async function curlAll(
  requests: string[][],
  listPath: string,
  headerPath: string,
): Promise<string[]> {
  await Deno.writeTextFile(listPath, requests.map((args) => args.join(" ")).join("\n") + "\n");
  return ["xargs", "-a", listPath, "-P", "4", "-L", "1", "curl", "-sfS", "-H", `@${headerPath}`];
}

async function toParquet(ipcPath: string, parquetPath: string): Promise<void> {
  const child = new Deno.Command("deno", {
    args: ["run", "-A", "cli.ts", "asset-lock", "to-parquet", parquetPath],
    cwd: ROOT,
    stdin: "piped",
    stdout: "null",
  }).spawn();
  await (await Deno.open(ipcPath)).readable.pipeTo(child.stdin);
  if (!(await child.status).success) throw new Error(`asset-lock to-parquet ${parquetPath} failed`);
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
  ]);
  await purge(floorContainer);
  await Deno.remove(floorDir, { recursive: true });
  const upLock = `${dataDir}/up.parquet`;
  const upIpc = `${dataDir}/up.ipc`;
  let source: string | undefined; // ferry's first upload, the source of the way back
  const results: Record<string, Measured[]> = {
    "ferry up": [],
    "rclone up": [],
    "ferry down": [],
    "rclone down": [],
    "curl up": [],
    "curl down": [],
  };
  const token = await authenticate(
    Deno.env.get("ST_AUTH")!,
    Deno.env.get("ST_USER")!,
    Deno.env.get("ST_KEY")!,
  );
  const headerPath = `${dataDir}/curl-auth.txt`;
  await Deno.writeTextFile(headerPath, `X-Auth-Token: ${token.token}\n`, { mode: 0o600 });
  const listPath = `${dataDir}/curl-list.txt`;
  const env = rcloneEnv();
  try {
    for (let r = 0; r < runs; r++) {
      const fc = `ferry-bench-up-${tag}-${r}`;
      console.error(`run ${r + 1}: ferry file → swift`);
      results["ferry up"]!.push(
        await measure(
          [
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
          ],
          {},
          r === 0 ? upIpc : undefined,
        ),
      );
      if (r === 0) await toParquet(upIpc, upLock);
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
      const cc = `curl-bench-up-${tag}-${r}`;
      console.error(`run ${r + 1}: curl file → swift`);
      await quiet([
        "curl",
        "-sfS",
        "-X",
        "PUT",
        "-H",
        `@${headerPath}`,
        `${token.storageUrl}/${cc}`,
      ]);
      results["curl up"]!.push(
        await measure(
          await curlAll(
            files.map((
              [name],
            ) => ["-T", `${srcDir}/${name}`, `${token.storageUrl}/${cc}/up/${name}`]),
            listPath,
            headerPath,
          ),
        ),
      );
      await purge(cc);
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
      const cout = `${dataDir}/down-curl-${r}`;
      await Deno.mkdir(cout, { recursive: true });
      console.error(`run ${r + 1}: curl swift → file`);
      const keys = [...files.map(([name]) => `up/transfer/${name}`)];
      results["curl down"]!.push(
        await measure(
          await curlAll(
            keys.map((key) => [
              "-o",
              `${cout}/${key.split("/").at(-1)}`,
              `${token.storageUrl}/${source}/${key}`,
            ]),
            listPath,
            headerPath,
          ),
        ),
      );
      await Deno.remove(cout, { recursive: true });
    }
  } finally {
    if (source) await purge(source);
    for await (const e of Deno.readDir(dataDir)) {
      if (/\.(parquet|ipc|txt)$/.test(e.name) || e.name.startsWith("down-")) {
        await Deno.remove(`${dataDir}/${e.name}`, { recursive: true });
      }
    }
  }

  const lines: string[] = [];
  for (
    const [direction, way] of [["file → Swift", "up"], ["Swift → file", "down"]] as const
  ) {
    const [f, rc, c] = (["ferry", "rclone", "curl"] as const).map((tool) =>
      best(results[`${tool} ${way}`]!)
    ) as [Measured, Measured, Measured];
    const cell = (m: Measured) =>
      `${m.seconds.toFixed(1)} s, ${(totalMiB / m.seconds).toFixed(0)} MiB/s, ${
        m.maxRssMiB.toFixed(0)
      } MiB, ${m.cpuSeconds.toFixed(1)} CPU-s`;
    lines.push(
      `| ${direction} | ${cell(f)} | ${cell(rc)} | ${cell(c)} | ${
        (rc.seconds / f.seconds).toFixed(2)
      }× | ${(c.seconds / f.seconds).toFixed(2)}× | ${(f.maxRssMiB / rc.maxRssMiB).toFixed(2)} |`,
    );
  }
  const show = (k: string) => best(results[k]!).command.replaceAll(ROOT + "/", "");
  console.log([
    `| direction | ferry (best run) | rclone --transfers 4 | 4 × curl (ceiling) | ferry/rclone throughput | ferry/curl throughput | ferry/rclone peak RSS |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
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
    ...["ferry up", "rclone up", "curl up", "ferry down", "rclone down", "curl down"].map(show),
    "```",
  ].join("\n"));
}

if (import.meta.main) await main();
