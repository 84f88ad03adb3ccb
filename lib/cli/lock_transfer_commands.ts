/**
 * `ferry asset-lock validate|relocate`: checking a lock against the live
 * objects, and moving its objects to another store through the pipeline.
 *
 * @module
 */
import { type Command, type CommandIO, EXIT, writeText } from "./command.ts";
import { lockRowsFromStdin, parseMaxWorkers, writeLockOutput } from "./lock_commands.ts";
import type { ParsedArgs } from "./parse_args.ts";
import type { LockRow } from "../lock/schema.ts";
import { readLockParquet, writeLockParquetFile } from "../lock/parquet.ts";
import { normalizeStoreType } from "../stores/location.ts";
import { normalizeEndpoint } from "../lock/schema.ts";
import { validateLock } from "../lock/validate.ts";
import {
  planRelocation,
  RELOCATE_LAYOUTS,
  type RelocateLayout,
  relocateLock,
} from "../lock/relocate.ts";
import { parsePipelineFlags, PIPELINE_USAGE, withPipelineFlags } from "./pipeline_flags.ts";
import { Progress } from "./progress.ts";

/**
 * The lock a command reads: the Parquet file named by `--asset-lock` or the
 * first positional argument, else Arrow IPC on stdin.
 *
 * @param args Parsed flags.
 * @param io Standard streams.
 * @returns Batches of rows (errors surface when read).
 * @throws {TypeError} When both a flag and a positional name a lock.
 */
export async function lockInput(
  args: ParsedArgs,
  io: CommandIO,
): Promise<AsyncIterable<LockRow[]>> {
  const flag = typeof args["asset-lock"] === "string" ? args["asset-lock"] : undefined;
  const path = flag ?? args._[0];
  if (flag !== undefined && args._.length > 0) {
    throw new TypeError(`Unexpected argument "${args._[0]}": the lock is given by --asset-lock`);
  }
  if (args._.length > 1) throw new TypeError(`Unexpected argument "${args._[1]}"`);
  if (path === undefined) return lockRowsFromStdin(io);
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new TypeError(`Invalid asset lock "${path}": not a file`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read asset lock "${path}": no such file`);
    }
    throw error;
  }
  return readLockParquet(path);
}

/**
 * The package folder when the lock read is a package's (an `items.parquet`
 * beside it): its relative file keys are relative to that folder.
 */
async function packageRootOf(args: ParsedArgs): Promise<string | undefined> {
  const path = typeof args["asset-lock"] === "string" ? args["asset-lock"] : args._[0];
  if (path === undefined) return undefined;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  try {
    return (await Deno.stat(`${dir}/items.parquet`)).isFile ? dir : undefined;
  } catch {
    return undefined;
  }
}

const validate: Command = {
  name: ["asset-lock", "validate"],
  summary:
    "Check each lock row's object (size, ETag, last-modified; --deep: SHA-256); JSON lines, exit 1 if any is invalid",
  usage:
    "[LOCK.parquet | --asset-lock PATH] [--deep] [--keep-going] [--item-ids ID]... [--asset-keys K]... [--max-workers N] [--listing-threshold N]",
  args: {
    string: ["asset-lock", "max-workers", "listing-threshold"],
    boolean: ["deep", "keep-going"],
    collect: ["item-ids", "asset-keys"],
  },
  async run(args, io) {
    const maxWorkers = parseMaxWorkers(args["max-workers"]);
    const threshold = args["listing-threshold"];
    if (threshold !== undefined && !/^\d+$/.test(String(threshold))) {
      throw new RangeError(
        `Invalid --listing-threshold "${threshold}": expected a non-negative integer`,
      );
    }
    const { results } = await validateLock(await lockInput(args, io), {
      baseDir: await packageRootOf(args),
      deep: args.deep === true,
      keepGoing: args["keep-going"] === true,
      itemIds: args["item-ids"] as string[] | undefined,
      assetKeys: args["asset-keys"] as string[] | undefined,
      maxWorkers,
      listingThreshold: threshold === undefined ? undefined : Number(threshold),
    });
    await writeText(io.stdout, results.map((r) => JSON.stringify(r) + "\n").join(""));
    return results.every((r) => r.valid) ? EXIT.ok : EXIT.failed;
  },
};

function parseLayout(value: unknown): RelocateLayout {
  const layout = value === undefined ? "item-asset" : String(value);
  if (!(RELOCATE_LAYOUTS as readonly string[]).includes(layout)) {
    throw new RangeError(`Invalid --layout "${layout}": expected item-asset or source-key`);
  }
  return layout as RelocateLayout;
}

const relocate: Command = {
  name: ["asset-lock", "relocate"],
  summary:
    "Copy a lock's objects to another store and emit the new lock (Arrow IPC, or --destination-lock PATH)",
  usage:
    `[LOCK.parquet | --asset-lock PATH] --store-type T [--store-container C] [--store-endpoint-url URL] [--key PREFIX] [--source-prefix P] [--layout item-asset|source-key] [--destination-lock PATH] [--dry-run] [--[no-]overwrite] [--keep-going] ${PIPELINE_USAGE}`,
  args: withPipelineFlags({
    string: [
      "asset-lock",
      "destination-lock",
      "store-type",
      "store-container",
      "store-endpoint-url",
      "key",
      "source-prefix",
      "layout",
    ],
    boolean: ["dry-run", "keep-going"],
    negatable: ["overwrite"],
    default: { overwrite: false },
  }),
  async run(args, io) {
    const storeTypeFlag = args["store-type"];
    if (typeof storeTypeFlag !== "string") throw new TypeError("Missing --store-type");
    const storeType = normalizeStoreType(storeTypeFlag);
    const container = typeof args["store-container"] === "string" ? args["store-container"] : null;
    if (storeType !== "file" && !container) {
      throw new TypeError(`Missing --store-container for --store-type ${storeType}`);
    }
    if (storeType === "http" || storeType === "https") {
      throw new TypeError(`Invalid --store-type "${storeType}": HTTP stores are read-only`);
    }
    const layout = parseLayout(args.layout);
    const pipeline = parsePipelineFlags(args);
    const options = {
      ...pipeline,
      destination: {
        store_type: storeType,
        store_container: container,
        store_endpoint_url: normalizeEndpoint(args["store-endpoint-url"] as string | undefined),
        key: typeof args.key === "string" ? args.key : "",
      },
      sourcePrefix: args["source-prefix"] as string | undefined,
      layout,
      overwrite: args.overwrite === true,
      keepGoing: args["keep-going"] === true,
    };
    const input = await lockInput(args, io);
    if (args["dry-run"] === true) {
      const lines: string[] = [];
      for await (const plan of planRelocation(input, options)) lines.push(JSON.stringify(plan));
      await writeText(io.stdout, lines.map((l) => l + "\n").join(""));
      return EXIT.ok;
    }
    const failures: string[] = [];
    const progress = new Progress({ stderr: io.stderr, stderrIsTerminal: io.stderrIsTerminal });
    const rows = relocateLock(input, {
      ...options,
      onEvent: progress.handle,
      onResult: (result) => {
        if (result.status !== "failed") return;
        const { row } = result.task.data!;
        failures.push(
          `item "${row.item_id}" asset "${row.asset_key}": ${
            (result.error?.message ?? "failed").split("\n")[0]
          }`,
        );
      },
    });
    try {
      const destinationLock = args["destination-lock"];
      if (typeof destinationLock === "string") {
        const { rows: count } = await writeLockParquetFile(rows, destinationLock);
        await writeText(io.stdout, JSON.stringify({ path: destinationLock, rows: count }) + "\n");
      } else {
        await writeLockOutput(io, rows);
      }
    } finally {
      await progress.close();
    }
    if (failures.length === 0) return EXIT.ok;
    await writeText(
      io.stderr,
      failures.map((f) => `ferry asset-lock relocate: ${f}\n`).join(""),
    );
    return EXIT.failed;
  },
};

/** The `asset-lock validate` and `asset-lock relocate` commands. */
export const lockTransferCommands: Command[] = [validate, relocate];
