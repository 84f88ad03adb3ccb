/**
 * `ferry asset-lock derive|from-parquet|to-parquet|to-ndjson`: asset locks as
 * Arrow IPC on pipes, Parquet in files.
 *
 * @module
 */
import { type Command, type CommandIO, EXIT, positional, writeText } from "./command.ts";
import { deriveLock } from "../lock/derive.ts";
import { parseChecksumAlgorithm } from "../lock/checksum.ts";
import { LOCK_COLUMNS, type LockRow } from "../lock/schema.ts";
import { readLockParquet, writeLockParquetFile } from "../lock/parquet.ts";
import { type ParsedArgs, positiveIntegerFlag } from "./parse_args.ts";

const PREVIEW_ROWS = 20;

/**
 * Parses a `--max-workers` value.
 *
 * @param value The flag's value.
 * @returns A positive integer.
 * @throws {RangeError} For anything else.
 */
export function parseMaxWorkers(value: string | boolean | string[] | undefined): number {
  return value === undefined ? 8 : positiveIntegerFlag("max-workers", value);
}

/**
 * Writes lock rows to stdout: Arrow IPC on a pipe, a preview table (first 20
 * rows and `N rows x M columns`) on a terminal.
 *
 * @param io Standard streams.
 * @param batches The rows.
 * @returns The number of rows.
 */
export async function writeLockOutput(
  io: CommandIO,
  batches: AsyncIterable<LockRow[]>,
): Promise<number> {
  let count = 0;
  if (!io.stdoutIsTerminal) {
    const counted = (async function* () {
      for await (const rows of batches) {
        count += rows.length;
        yield rows;
      }
    })();
    // Arrow is loaded only when rows go to a pipe (relocate to a file never needs it).
    const { lockRowsToIpc } = await import("../lock/arrow.ts");
    await lockRowsToIpc(counted).pipeTo(io.stdout, { preventClose: true });
    return count;
  }
  const shown: LockRow[] = [];
  for await (const rows of batches) {
    for (const row of rows) if (shown.length < PREVIEW_ROWS) shown.push(row);
    count += rows.length;
  }
  const cells = shown.map((row) => LOCK_COLUMNS.map((c) => row[c] === null ? "" : String(row[c])));
  const widths = LOCK_COLUMNS.map((c, i) =>
    Math.min(40, Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  );
  const line = (values: readonly string[]) =>
    values.map((v, i) =>
      (v.length > widths[i]! ? v.slice(0, widths[i]! - 1) + "…" : v)
        .padEnd(widths[i]!)
    ).join("  ").trimEnd();
  const text = [line(LOCK_COLUMNS), ...cells.map(line)].join("\n");
  await writeText(
    io.stdout,
    `${text}\n${count} rows x ${LOCK_COLUMNS.length} columns${
      count > PREVIEW_ROWS ? ` (showing first ${PREVIEW_ROWS})` : ""
    }\n`,
  );
  return count;
}

/**
 * The probe options shared by `asset-lock derive` and `build`, from parsed flags.
 *
 * @param args Parsed flags.
 * @param io Where failed probes are reported under `--keep-going`.
 * @returns Options for `deriveLock` / `buildPackage`.
 */
export function probeOptionsFromArgs(args: ParsedArgs, io: CommandIO) {
  return {
    assetKeys: args["asset-keys"] as string[] | undefined,
    itemIds: args["item-ids"] as string[] | undefined,
    providers: args.providers as string[] | undefined,
    includeMetadataAssets: args["include-metadata-assets"] === true,
    probeMetadata: args["probe-metadata"] !== false,
    checksum: parseChecksumAlgorithm(
      typeof args.checksum === "string" ? args.checksum : "none",
    ),
    keepGoing: args["keep-going"] === true,
    maxWorkers: parseMaxWorkers(args["max-workers"]),
    onError: (error: Error) => {
      void writeText(io.stderr, `ferry: ${error.message.split("\n")[0]}\n`);
    },
  };
}

/** Flags of the probing commands. */
export const PROBE_FLAGS = {
  string: ["checksum", "max-workers"],
  boolean: ["include-metadata-assets", "keep-going"],
  collect: ["asset-keys", "item-ids", "providers"],
  negatable: ["probe-metadata"],
  default: { "probe-metadata": true },
} as const;

const derive: Command = {
  name: ["asset-lock", "derive"],
  summary: "Derive an asset lock (Arrow IPC) from items (Arrow IPC) on stdin",
  usage:
    "[--item-ids ID]... [--providers P]... [--asset-keys K]... [--include-metadata-assets] [--[no-]probe-metadata] [--checksum none|sha256] [--keep-going] [--max-workers N]",
  args: PROBE_FLAGS,
  async run(args, io) {
    const options = probeOptionsFromArgs(args, io);
    const { itemsFromIpc } = await import("../stac/ipc.ts");
    await writeLockOutput(io, deriveLock(itemsFromIpc(io.stdin), options));
    return EXIT.ok;
  },
};

/**
 * Parses a `--batch-size` value.
 *
 * @param value The flag's value.
 * @returns A positive integer, or undefined when the flag is absent.
 * @throws {RangeError} For anything else.
 */
export function parseBatchSize(value: string | boolean | string[] | undefined): number | undefined {
  return value === undefined ? undefined : positiveIntegerFlag("batch-size", value);
}

const fromParquet: Command = {
  name: ["asset-lock", "from-parquet"],
  summary:
    "Read an asset lock Parquet file (ferry's or stacpkg's) to Arrow IPC on stdout (one batch per row group, or --batch-size rows)",
  usage: "FILE [--batch-size N]",
  args: { string: ["batch-size"] },
  async run(args, io) {
    const batchSize = parseBatchSize(args["batch-size"]);
    await writeLockOutput(io, readLockParquet(positional(args, 0, "FILE"), { batchSize }));
    return EXIT.ok;
  },
};

const toParquet: Command = {
  name: ["asset-lock", "to-parquet"],
  summary: "Write an asset lock (Arrow IPC on stdin) to a Parquet file, atomically",
  usage: "FILE",
  args: {},
  async run(args, io) {
    const path = positional(args, 0, "FILE");
    const { rows } = await writeLockParquetFile(lockRowsFromStdin(io), path);
    await writeText(io.stdout, JSON.stringify({ path, rows }) + "\n");
    return EXIT.ok;
  },
};

const toNdjson: Command = {
  name: ["asset-lock", "to-ndjson"],
  summary: "Write an asset lock (Arrow IPC on stdin) as JSON lines to FILE or stdout",
  usage: "[FILE]",
  args: {},
  async run(args, io) {
    const path = args._[0];
    const encoder = new TextEncoder();
    const lines = ReadableStream.from((async function* () {
      for await (const rows of lockRowsFromStdin(io)) {
        yield encoder.encode(rows.map((row) => JSON.stringify(row) + "\n").join(""));
      }
    })());
    if (path === undefined) {
      await lines.pipeTo(io.stdout, { preventClose: true });
      return EXIT.ok;
    }
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    try {
      await lines.pipeTo((await Deno.open(temp, { write: true, createNew: true })).writable);
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    return EXIT.ok;
  },
};

/** The `asset-lock` commands. */
export const lockCommands: Command[] = [derive, fromParquet, toParquet, toNdjson];

/**
 * Lock rows arriving as Arrow IPC on stdin (Arrow is loaded on first use).
 *
 * @param io Standard streams.
 * @returns The row batches.
 */
export async function* lockRowsFromStdin(io: CommandIO): AsyncIterable<LockRow[]> {
  const { lockRowsFromIpc } = await import("../lock/arrow.ts");
  yield* lockRowsFromIpc(io.stdin);
}
