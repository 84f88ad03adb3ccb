/**
 * The CPU floor of issue 3's pipeline, against DuckDB's whole job.
 *
 * `deno run -A bench/items_floor.ts [COUNT]` (default 100000; NDJSON generated
 * as in `items_bench.ts` under `bench/data/`, kept) measures, in CPU seconds
 * per 100,000 items (user + system of this process, `node:process`
 * `cpuUsage`):
 *
 * - a bare byte scan of the NDJSON: every string and number tokenized, nothing
 *   built (the floor of any byte-level reader in JS);
 * - `JSON.parse` of every line (V8's C++ parser; the floor of any reader that
 *   builds items);
 * - ferry's byte-level reader (`ItemsBatchBuilder.addJsonLine`) taking every
 *   line into Arrow columns, the schema already known;
 * - parquet-wasm writing ferry's own Arrow batches for those items, with
 *   ferry's settings (ZSTD, dictionaries, statistics) and with the cheapest
 *   ZSTD settings (no dictionaries, no statistics): the only Parquet encoder
 *   Deno can run without native code;
 * - DuckDB's whole job (`read_ndjson` → ZSTD Parquet), user + system CPU of
 *   its process from `/usr/bin/time`.
 *
 * Both tools are CPU-bound on the same two cores, so the one that needs more
 * CPU per item cannot be the faster one.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { cpuUsage } from "node:process";
import * as pw from "parquet-wasm";
import { ipcStreamOfBatch, readIpcBatches } from "../lib/stac/ipc.ts";
import { ItemsEncoder } from "../lib/stac/items_encoder.ts";
import { ensureItemsNdjson, writeDuckdbScript } from "./items_bench.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function cpuSeconds<T>(work: () => T): [T, number] {
  const before = cpuUsage();
  const result = work();
  const used = cpuUsage(before);
  return [result, (used.user + used.system) / 1e6];
}

/** Scans line-aligned pieces: V8 indexes typed arrays past 2 GiB slowly. */
function byteScan(bytes: Uint8Array): number {
  const piece = 1 << 28;
  let tokens = 0;
  for (let start = 0; start < bytes.length;) {
    let end = Math.min(start + piece, bytes.length);
    if (end < bytes.length) end = bytes.indexOf(0x0a, end) + 1 || bytes.length;
    tokens += scanPiece(bytes.subarray(start, end));
    start = end;
  }
  return tokens;
}

function scanPiece(bytes: Uint8Array): number {
  let tokens = 0;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const c = bytes[i]!;
    if (c === 0x22) {
      i++;
      while (bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
      i++;
      tokens++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i++;
      for (;;) {
        const d = bytes[i]!;
        if (
          (d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b ||
          d === 0x2d
        ) i++;
        else break;
      }
      tokens++;
    } else i++;
  }
  return tokens;
}

function parseLines(bytes: Uint8Array): number {
  const decoder = new TextDecoder();
  const step = 1 << 22;
  let carry = "";
  let items = 0;
  for (let offset = 0; offset < bytes.length; offset += step) {
    const text = carry + decoder.decode(bytes.subarray(offset, offset + step), { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      if (end > start) items += JSON.parse(text.slice(start, end)) ? 1 : 0;
      start = end + 1;
    }
    carry = text.slice(start);
  }
  return items;
}

/** ferry's byte-level reader: every line into Arrow columns, schema known. */
function readLinesIntoColumns(bytes: Uint8Array): number {
  const firstEnd = bytes.indexOf(0x0a);
  const encoder = ItemsEncoder.infer([
    JSON.parse(new TextDecoder().decode(bytes.subarray(0, firstEnd))),
  ]);
  let builder = encoder.builder();
  let rows = 0;
  for (let start = 0; start < bytes.length;) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    if (end > start && !builder.addJsonLine(bytes.subarray(start, end))) {
      throw new Error(`line at byte ${start} does not fit the first item's schema`);
    }
    if (builder.length === 64000) {
      rows += builder.finish().numRows;
      builder = encoder.builder();
    }
    start = end + 1;
  }
  return rows + builder.finish().numRows;
}

async function ferryBatches(ndjson: string, dir: string): Promise<Uint8Array[]> {
  const ipc = `${dir}/items.arrow`;
  const out = await new Deno.Command("bash", {
    args: ["-c", `deno run -A ${ROOT}cli.ts items from-ndjson ${ndjson} > ${ipc}`],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("ferry items from-ndjson failed");
  const file = await Deno.open(ipc);
  const { batches } = await readIpcBatches(file.readable);
  const streams: Uint8Array[] = [];
  for await (const batch of batches) streams.push(ipcStreamOfBatch(batch)!);
  return streams;
}

function writeParquet(streams: Uint8Array[], cheapest: boolean): number {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(64000);
  if (cheapest) {
    builder = builder.setDictionaryEnabled(false).setStatisticsEnabled(pw.EnabledStatistics.None);
  }
  const props = builder.build();
  let bytes = 0;
  for (const stream of streams) {
    bytes += pw.writeParquet(pw.Table.fromIPCStream(stream), props).length;
  }
  return bytes;
}

async function duckdbCpuSeconds(ndjson: string, dir: string): Promise<number> {
  const script = await writeDuckdbScript(dir, ndjson);
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%U %S", "deno", "run", "-A", "--config", `${ROOT}deno.json`, script],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error("DuckDB failed");
  const [user, system] = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!.split(" ");
  return Number(user) + Number(system);
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 100000);
  const ndjson = await ensureItemsNdjson(count);
  const dir = await Deno.makeTempDir({ dir: `${ROOT}bench/data`, prefix: "items-floor-" });
  try {
    const bytes = await Deno.readFile(ndjson);
    const per100k = (seconds: number) => (seconds * 100000 / count).toFixed(2);
    const [, scan] = cpuSeconds(() => byteScan(bytes));
    const [parsed, parse] = cpuSeconds(() => parseLines(bytes));
    if (parsed !== count) throw new Error(`parsed ${parsed} items, expected ${count}`);
    const [read, columns] = cpuSeconds(() => readLinesIntoColumns(bytes));
    if (read !== count) throw new Error(`read ${read} items, expected ${count}`);
    const streams = await ferryBatches(ndjson, dir);
    // Untimed: the first call pays for compiling and tiering up the wasm.
    writeParquet(streams.slice(0, 1), false);
    const [, parquetFerry] = cpuSeconds(() => writeParquet(streams, false));
    const [, parquetCheapest] = cpuSeconds(() => writeParquet(streams, true));
    const duck = await duckdbCpuSeconds(ndjson, dir);
    console.log(`| step (${count.toLocaleString("en")} items) | CPU s per 100k items |`);
    console.log("|---|---|");
    console.log(`| bare byte scan of the NDJSON | ${per100k(scan)} |`);
    console.log(`| \`JSON.parse\` of every line | ${per100k(parse)} |`);
    console.log(`| ferry's byte reader: every line into Arrow columns | ${per100k(columns)} |`);
    console.log(
      `| parquet-wasm, ferry's settings (ZSTD, dictionaries, statistics) | ${
        per100k(parquetFerry)
      } |`,
    );
    console.log(
      `| parquet-wasm, ZSTD without dictionaries or statistics | ${per100k(parquetCheapest)} |`,
    );
    console.log(`| DuckDB, the whole job (user + system) | ${per100k(duck)} |`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
