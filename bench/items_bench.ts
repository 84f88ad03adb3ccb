/**
 * Items benchmark: NDJSON → stac-geoparquet.
 *
 * `deno bench -A bench/items_bench.ts` runs a small in-process encode bench.
 * `deno run -A bench/items_bench.ts [--runs N] [--batch-size N] [--keep-data] [COUNT...]`
 * (default 100000) runs the comparison of issue 3: N items generated with
 * `../shared/tools/gen-items.py` (the only file used from ../shared; the
 * template is the project's own copy in tests/fixtures/stac/naip-pc.json) as
 * NDJSON under `bench/data/` (git-ignored; removed afterwards unless
 * `--keep-data`, reused when already there), then
 * `ferry items from-ndjson FILE [--batch-size N] | ferry build OUT --no-probe-metadata` against
 * DuckDB (`@duckdb/node-api`, `read_ndjson` → `COPY ... (FORMAT parquet,
 * COMPRESSION zstd)`), each timed with `/usr/bin/time -v` (wall time, peak RSS
 * of each process), best of `--runs` (default 1), and printed as a Markdown
 * table row for bench/RESULTS.md with the load average before each run.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { ItemsEncoder } from "../lib/stac/items_encoder.ts";
import { itemsFromJsonText } from "../lib/stac/json_input.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const TEMPLATE = `${ROOT}tests/fixtures/stac/naip-pc.json`;
const GENERATOR = `${ROOT}../shared/tools/gen-items.py`;

Deno.bench("ItemsEncoder.encode() 1000 NAIP items", async (b) => {
  const template = itemsFromJsonText(await Deno.readTextFile(TEMPLATE));
  const items = Array.from({ length: 1000 }, (_, i) => ({ ...template[i % 4]!, id: `i${i}` }));
  b.start();
  ItemsEncoder.infer(items).encode(items);
  b.end();
});

/**
 * Where the benchmark keeps `count` generated items as NDJSON.
 *
 * @param count Number of items.
 * @returns The path under `bench/data/`.
 */
export function itemsNdjsonPath(count: number): string {
  return `${ROOT}bench/data/items-${count}.ndjson`;
}

/**
 * Generates `count` items as NDJSON with `../shared/tools/gen-items.py`
 * unless they are already there.
 *
 * @param count Number of items.
 * @returns The NDJSON path.
 */
export async function ensureItemsNdjson(count: number): Promise<string> {
  const ndjson = itemsNdjsonPath(count);
  if (await Deno.stat(ndjson).then(() => true, () => false)) return ndjson;
  await Deno.mkdir(`${ROOT}bench/data`, { recursive: true });
  await sh(`python3 ${GENERATOR} --count ${count} ${TEMPLATE} > ${ndjson}.tmp`);
  await Deno.rename(`${ndjson}.tmp`, ndjson);
  return ndjson;
}

interface Timed {
  seconds: number;
  rssMiB: number[];
}

function parseTime(report: string): { seconds: number; rssMiB: number } {
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    report,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  if (!wall || !rss) throw new Error(`Cannot read /usr/bin/time output: ${report.slice(0, 200)}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, rssMiB: Number(rss[1]) / 1024 };
}

async function sh(script: string): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script], stderr: "inherit" }).output();
  if (!out.success) throw new Error(`Failed: ${script}`);
}

async function timedPipeline(dir: string, ndjson: string, fromArgs: string): Promise<Timed> {
  const ferry = `deno run -A ${ROOT}cli.ts`;
  await Deno.remove(`${dir}/pkg`, { recursive: true }).catch(() => {});
  const start = performance.now();
  await sh(
    `set -o pipefail; /usr/bin/time -v -o ${dir}/t1 ${ferry} items from-ndjson ${ndjson}${fromArgs} | ` +
      `/usr/bin/time -v -o ${dir}/t2 ${ferry} build ${dir}/pkg --no-probe-metadata > /dev/null`,
  );
  const seconds = (performance.now() - start) / 1000;
  const a = parseTime(await Deno.readTextFile(`${dir}/t1`));
  const b = parseTime(await Deno.readTextFile(`${dir}/t2`));
  return { seconds, rssMiB: [a.rssMiB, b.rssMiB] };
}

/**
 * Writes `dir/duck.ts`: DuckDB reading `ndjson` and writing `dir/duck.parquet`
 * (ZSTD), the peer's whole job. Run it with `--config deno.json`.
 *
 * @param dir The work folder.
 * @param ndjson The NDJSON path.
 * @returns The script's path.
 */
export async function writeDuckdbScript(dir: string, ndjson: string): Promise<string> {
  const script = `${dir}/duck.ts`;
  await Deno.remove(`${dir}/duck.parquet`).catch(() => {});
  await Deno.writeTextFile(
    script,
    `import { DuckDBInstance } from "@duckdb/node-api";
const db = await DuckDBInstance.create(":memory:");
const c = await db.connect();
await c.run("COPY (SELECT * FROM read_ndjson('${ndjson}', maximum_object_size=104857600)) TO '${dir}/duck.parquet' (FORMAT parquet, COMPRESSION zstd)");
c.closeSync();
`,
  );
  return script;
}

async function timedDuckdb(dir: string, ndjson: string): Promise<Timed> {
  const script = await writeDuckdbScript(dir, ndjson);
  await sh(
    `cd ${ROOT} && /usr/bin/time -v -o ${dir}/t3 deno run -A --config ${ROOT}deno.json ${script}`,
  );
  const t = parseTime(await Deno.readTextFile(`${dir}/t3`));
  return { seconds: t.seconds, rssMiB: [t.rssMiB] };
}

async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
}

function best(runs: Timed[]): Timed {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

if (import.meta.main) {
  const args = [...Deno.args];
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i !== -1) args.splice(i, 1);
    return i !== -1;
  };
  const runsAt = args.indexOf("--runs");
  const runs = runsAt === -1 ? 1 : Number(args.splice(runsAt, 2)[1]);
  const keep = flag("--keep-data");
  const batchAt = args.indexOf("--batch-size");
  const fromArgs = batchAt === -1 ? "" : ` --batch-size ${Number(args.splice(batchAt, 2)[1])}`;
  const counts = args.length > 0 ? args.map(Number) : [100000];
  console.log(
    "| items | NDJSON MiB | ferry s | ferry items/s | ferry peak RSS MiB (from-ndjson / build) | " +
      "DuckDB s | DuckDB items/s | DuckDB peak RSS MiB | ferry/DuckDB speed | " +
      "Parquet MiB ferry / DuckDB | load avg before |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  const data = `${ROOT}bench/data`;
  await Deno.mkdir(data, { recursive: true });
  for (const count of counts) {
    const dir = await Deno.makeTempDir({ dir: data, prefix: "items-bench-" });
    const ndjson = itemsNdjsonPath(count);
    const existed = await Deno.stat(ndjson).then(() => true, () => false);
    try {
      await ensureItemsNdjson(count);
      const size = (await Deno.stat(ndjson)).size / 2 ** 20;
      const load = await loadAverage();
      const fs: Timed[] = [];
      const ds: Timed[] = [];
      for (let r = 0; r < runs; r++) {
        fs.push(await timedPipeline(dir, ndjson, fromArgs));
        ds.push(await timedDuckdb(dir, ndjson));
      }
      const f = best(fs);
      const d = best(ds);
      const fp = (await Deno.stat(`${dir}/pkg/items.parquet`)).size / 2 ** 20;
      const dp = (await Deno.stat(`${dir}/duck.parquet`)).size / 2 ** 20;
      const rate = (s: number) => Math.round(count / s).toLocaleString("en");
      console.log(
        `| ${count.toLocaleString("en")}${fromArgs} | ${size.toFixed(0)} | ${
          f.seconds.toFixed(1)
        } | ${rate(f.seconds)} | ${f.rssMiB.map((r) => r.toFixed(0)).join(" / ")} | ${
          d.seconds.toFixed(1)
        } | ${rate(d.seconds)} | ${d.rssMiB[0]!.toFixed(0)} | ${
          (d.seconds / f.seconds).toFixed(2)
        } | ${fp.toFixed(1)} / ${dp.toFixed(1)} | ${load} |`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      if (!existed && !keep) await Deno.remove(ndjson).catch(() => {});
    }
  }
}
