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
import { readLockFile } from "../lock/lock_file.ts";
import { ITEMS_FILE, LOCK_FILE } from "../package/inspect.ts";
import { normalizeStoreType, type StoreType } from "../stores/location.ts";
import { normalizeEndpoint } from "../lock/schema.ts";
import { validateLock } from "../lock/validate.ts";
import { pythonJson } from "../python_json.ts";
import {
  pairMoves,
  plannedLock,
  READ_ONLY_STORE_TYPES,
  RELOCATE_LAYOUTS,
  type RelocateDestination,
  type RelocateLayout,
  relocatePairs,
  type RelocationPair,
  relocationPairs,
  relocationPairsFromLock,
} from "../lock/relocate.ts";
import { parsePipelineFlags, PIPELINE_USAGE, withPipelineFlags } from "./pipeline_flags.ts";
import { Progress } from "./progress.ts";

/**
 * The lock a command reads: the one named by `--asset-lock` or the first
 * positional argument (Parquet or an Arrow IPC stream, from a file, a FIFO
 * or `/dev/fd/N`), else Arrow IPC on stdin.
 *
 * @param args Parsed flags.
 * @param io Standard streams.
 * @returns Batches of rows (errors surface when read).
 * @throws {TypeError} When both a flag and a positional name a lock.
 */
export function lockInput(args: ParsedArgs, io: CommandIO): AsyncIterable<LockRow[]> {
  const flag = typeof args["asset-lock"] === "string" ? args["asset-lock"] : undefined;
  const path = flag ?? args._[0];
  if (flag !== undefined && args._.length > 0) {
    throw new TypeError(`Unexpected argument "${args._[0]}": the lock is given by --asset-lock`);
  }
  if (args._.length > 1) throw new TypeError(`Unexpected argument "${args._[1]}"`);
  if (path === undefined) return lockRowsFromStdin(io);
  return readLockFile(path);
}

/**
 * The package folder when the lock read is a package's own
 * (`PACKAGE/assets.lock.parquet` beside `PACKAGE/items.parquet`): the keys
 * of packaged assets are relative to it. Any other lock's relative keys are
 * relative to the working directory, whatever files sit beside it.
 */
async function packageRootOf(args: ParsedArgs): Promise<string | undefined> {
  const path = typeof args["asset-lock"] === "string" ? args["asset-lock"] : args._[0];
  if (path === undefined) return undefined;
  const slash = path.lastIndexOf("/");
  if (path.slice(slash + 1) !== LOCK_FILE) return undefined;
  const dir = slash === -1 ? "." : path.slice(0, slash) || "/";
  try {
    return (await Deno.stat(`${dir}/${ITEMS_FILE}`)).isFile ? dir : undefined;
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
    const { results } = await validateLock(lockInput(args, io), {
      baseDir: await packageRootOf(args),
      deep: args.deep === true,
      keepGoing: args["keep-going"] === true,
      itemIds: args["item-ids"] as string[] | undefined,
      assetKeys: args["asset-keys"] as string[] | undefined,
      maxWorkers,
      listingThreshold: threshold === undefined ? undefined : Number(threshold),
    });
    // Each line as stacpkg prints it: json.dumps(result, sort_keys=True).
    await writeText(
      io.stdout,
      results.map((r) => pythonJson(r, { sortKeys: true }) + "\n").join(""),
    );
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

/** The store types `--store-type` takes (stacpkg's, and swift). */
const RELOCATE_STORE_TYPES = ["file", "s3", "gs", "az", "http", "https", "swift"] as const;

/** Flags that describe a `--store-type` destination, refused beside `--destination-lock`. */
const STORE_TYPE_FLAGS = [
  "store-container",
  "store-endpoint-url",
  "key",
  "source-prefix",
  "layout",
] as const;

/** The `--store-type` destination, checked. */
function storeTypeDestination(args: ParsedArgs): RelocateDestination {
  const flag = String(args["store-type"]);
  let storeType: StoreType;
  try {
    storeType = normalizeStoreType(flag);
  } catch {
    storeType = "memory";
  }
  if (!(RELOCATE_STORE_TYPES as readonly string[]).includes(storeType)) {
    throw new TypeError(
      `Invalid --store-type "${flag}": expected one of ${RELOCATE_STORE_TYPES.join(", ")}`,
    );
  }
  if (READ_ONLY_STORE_TYPES.has(storeType) && args["dry-run"] !== true) {
    throw new TypeError(
      `Invalid --store-type "${flag}": ferry reads ${storeType} objects but does not write them (use it with --dry-run to map locations)`,
    );
  }
  const container = typeof args["store-container"] === "string" ? args["store-container"] : null;
  if (storeType !== "file" && !container) {
    throw new TypeError(`Missing --store-container for --store-type ${storeType}`);
  }
  // As stacpkg: a file destination needs its folder (an empty prefix would mean the working directory).
  if (storeType === "file" && (typeof args.key !== "string" || args.key === "")) {
    throw new TypeError("Missing --key for --store-type file: the destination folder");
  }
  return {
    store_type: storeType,
    store_container: container,
    store_endpoint_url: normalizeEndpoint(args["store-endpoint-url"] as string | undefined),
    key: typeof args.key === "string" ? args.key : "",
  };
}

/** The relocation's pairs: into `--destination-lock`'s rows, or to the `--store-type` destination. */
function pairsOf(args: ParsedArgs, io: CommandIO): AsyncIterable<RelocationPair[]> {
  const destinationLock = args["destination-lock"];
  if (typeof destinationLock === "string") {
    if (args["store-type"] !== undefined) {
      throw new TypeError("Flags --store-type and --destination-lock exclude each other");
    }
    const extra = STORE_TYPE_FLAGS.find((f) => args[f] !== undefined);
    if (extra) {
      throw new TypeError(
        `Flag --${extra} is only used with --store-type: --destination-lock names every destination`,
      );
    }
    return relocationPairsFromLock(lockInput(args, io), readLockFile(destinationLock));
  }
  if (args["store-type"] === undefined) {
    throw new TypeError("Missing --store-type or --destination-lock");
  }
  const destination = storeTypeDestination(args);
  const layout = parseLayout(args.layout);
  return relocationPairs(lockInput(args, io), {
    destination,
    layout,
    sourcePrefix: args["source-prefix"] as string | undefined,
  });
}

/** Counts the pairs that move bytes and all pairs, as they pass. */
function counted(
  pairs: AsyncIterable<RelocationPair[]>,
  counts: { rows: number; moving: number },
): AsyncIterable<RelocationPair[]> {
  return (async function* () {
    for await (const batch of pairs) {
      counts.rows += batch.length;
      for (const pair of batch) {
        if (pairMoves(pair)) counts.moving++;
      }
      yield batch;
    }
  })();
}

const relocate: Command = {
  name: ["asset-lock", "relocate"],
  summary:
    "Copy a lock's objects to another store (or into --destination-lock's locations) and emit the new lock (Arrow IPC); --dry-run emits the planned lock",
  usage:
    `[LOCK | --asset-lock PATH] (--destination-lock LOCK | --store-type file|s3|swift|gs|az|http|https [--store-container C] [--store-endpoint-url URL] [--key PREFIX] [--source-prefix P] [--layout item-asset|source-key]) [--dry-run] [--[no-]overwrite] [--keep-going] ${PIPELINE_USAGE}`,
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
    const pipeline = parsePipelineFlags(args);
    const pairs = pairsOf(args, io);
    if (args["dry-run"] === true) {
      const counts = { rows: 0, moving: 0 };
      await writeLockOutput(io, plannedLock(counted(pairs, counts)));
      await writeText(
        io.stderr,
        `ferry asset-lock relocate: dry run: ${counts.moving} of ${counts.rows} row(s) would be copied; nothing was written\n`,
      );
      return EXIT.ok;
    }
    const failures: string[] = [];
    const progress = new Progress({ stderr: io.stderr, stderrIsTerminal: io.stderrIsTerminal });
    const rows = relocatePairs(pairs, {
      ...pipeline,
      overwrite: args.overwrite === true,
      keepGoing: args["keep-going"] === true,
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
      await writeLockOutput(io, rows);
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
