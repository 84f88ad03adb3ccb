/**
 * `ferry items enrich | add-alternate | remove-alternate | promote-alternate`:
 * Arrow IPC items on stdin, changed from the asset lock or their own
 * alternates, Arrow IPC (or a preview on a terminal) on stdout.
 *
 * @module
 */
import { type Command, type CommandIO, EXIT, writeText } from "./command.ts";
import { emitItems } from "./items_commands.ts";
import type { ParsedArgs } from "./parse_args.ts";
import { readLockFileRows } from "../lock/lock_file.ts";
import type { LockRow } from "../lock/schema.ts";
import { NotFoundError } from "../stores/errors.ts";
import { swiftStorageUrlFromEnv } from "../stores/registry.ts";
import {
  enrichItem,
  indexLockRows,
  type ItemChange,
  type LockIndex,
  needsSwiftStorageUrl,
  newTransformStats,
  transformItems,
  type TransformStats,
} from "../lock/enrich.ts";
import {
  addAlternate,
  DEFAULT_SWITCHED_ALTERNATE_NAME,
  PROMOTE_MODES,
  promoteAlternate,
  type PromoteMode,
  removeAlternate,
} from "../lock/alternates.ts";
import { itemsFromIpc } from "../stac/ipc.ts";
import type { StacItem } from "../stac/item.ts";

function stringFlag(args: ParsedArgs, name: string, required: true): string;
function stringFlag(args: ParsedArgs, name: string, required: false): string | undefined;
function stringFlag(args: ParsedArgs, name: string, required: boolean): string | undefined {
  const value = args[name];
  if (value === undefined) {
    if (required) throw new TypeError(`Missing flag --${name}`);
    return undefined;
  }
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`Invalid --${name}: it is empty`);
  }
  return value;
}

function noPositionals(args: ParsedArgs): void {
  if (args._.length > 0) throw new TypeError(`Unexpected argument "${args._[0]}"`);
}

/**
 * Reads and indexes the lock at `path` (Parquet or an Arrow IPC stream, from
 * a file, a FIFO or `/dev/fd/N`); a missing file is a NotFoundError.
 */
async function readLock(path: string): Promise<{ rows: LockRow[]; index: LockIndex }> {
  let rows: LockRow[];
  try {
    rows = await readLockFileRows(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`Asset lock "${path}" does not exist`, { cause: error });
    }
    throw error;
  }
  return { rows, index: indexLockRows(rows) };
}

/**
 * The Swift storage URL for lock rows that record none: `OS_STORAGE_URL`, or
 * a TempAuth login with `ST_AUTH`/`ST_USER`/`ST_KEY`; undefined when no row
 * needs one.
 */
async function swiftStorageUrlFor(rows: readonly LockRow[]): Promise<string | undefined> {
  const row = rows.find(needsSwiftStorageUrl);
  if (!row) return undefined;
  try {
    return await swiftStorageUrlFromEnv();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(
      `Lock row "${row.item_id}"/"${row.asset_key}" is on Swift without store_endpoint_url: set OS_STORAGE_URL, or ST_AUTH, ST_USER and ST_KEY, to write its https URL`,
    );
  }
}

/** Streams stdin's items through `step` to stdout; returns the counts. */
async function run(io: CommandIO, step: (item: StacItem) => ItemChange): Promise<TransformStats> {
  const stats = newTransformStats();
  await emitItems(transformItems(itemsFromIpc(io.stdin), step, stats), io);
  return stats;
}

async function warn(io: CommandIO, command: string, text: string): Promise<void> {
  await writeText(io.stderr, `ferry items ${command}: warning: ${text}\n`);
}

async function warnUnmatched(io: CommandIO, command: string, stats: TransformStats) {
  const missing = stats.items - stats.changedItems;
  if (missing > 0) {
    await warn(
      io,
      command,
      `${missing} of ${stats.items} item(s) had no asset with a lock row and were passed through unchanged`,
    );
  }
}

const enrich: Command = {
  name: ["items", "enrich"],
  summary:
    "Set file:size, file:checksum (and alternate.K.href) on assets from an asset lock (Arrow IPC items on stdin)",
  usage: "--asset-lock LOCK [--alternate-key|--key K]",
  args: { string: ["asset-lock", "alternate-key"], alias: { key: "alternate-key" } },
  async run(args, io) {
    noPositionals(args);
    const lockPath = stringFlag(args, "asset-lock", true);
    const alternateKey = stringFlag(args, "alternate-key", false);
    const { rows, index } = await readLock(lockPath);
    const swiftStorageUrl = alternateKey === undefined ? undefined : await swiftStorageUrlFor(rows);
    const stats = await run(io, (i) => enrichItem(i, index, { alternateKey, swiftStorageUrl }));
    await warnUnmatched(io, "enrich", stats);
    return EXIT.ok;
  },
};

const addAlternateCommand: Command = {
  name: ["items", "add-alternate"],
  summary:
    "Set alternate.K.href and alternate:name (N, default K) on assets from an asset lock's locations",
  usage: "--asset-lock LOCK --alternate-key|--key K [--alternate-name|--name N]",
  args: {
    string: ["asset-lock", "alternate-key", "alternate-name"],
    alias: { key: "alternate-key", name: "alternate-name" },
  },
  async run(args, io) {
    noPositionals(args);
    const lockPath = stringFlag(args, "asset-lock", true);
    const alternateKey = stringFlag(args, "alternate-key", true);
    // As stacpkg: the alternate is named after its key unless a name is given.
    const alternateName = stringFlag(args, "alternate-name", false) ?? alternateKey;
    const { rows, index } = await readLock(lockPath);
    const swiftStorageUrl = await swiftStorageUrlFor(rows);
    const stats = await run(
      io,
      (i) => addAlternate(i, index, { alternateKey, alternateName, swiftStorageUrl }),
    );
    await warnUnmatched(io, "add-alternate", stats);
    return EXIT.ok;
  },
};

const removeAlternateCommand: Command = {
  name: ["items", "remove-alternate"],
  summary: "Remove alternate.K from every asset (and alternate when it becomes empty)",
  usage: "--alternate-key|--key K",
  args: { string: ["alternate-key"], alias: { key: "alternate-key" } },
  async run(args, io) {
    noPositionals(args);
    const alternateKey = stringFlag(args, "alternate-key", true);
    const stats = await run(io, (i) => removeAlternate(i, alternateKey));
    if (stats.items > 0 && stats.changedAssets === 0) {
      await warn(io, "remove-alternate", `no asset has alternate "${alternateKey}"`);
    }
    return EXIT.ok;
  },
};

const promoteAlternateCommand: Command = {
  name: ["items", "promote-alternate"],
  summary:
    "Make alternate.K.href the asset's href (replace), keeping the old one as alternate K (switch)",
  usage:
    "--alternate-key|--key K --mode replace|switch [--switched-alternate-name N] [--drop-alternates]",
  args: {
    string: ["alternate-key", "mode", "switched-alternate-name"],
    boolean: ["drop-alternates"],
    alias: { key: "alternate-key" },
  },
  async run(args, io) {
    noPositionals(args);
    const alternateKey = stringFlag(args, "alternate-key", true);
    const mode = stringFlag(args, "mode", false) ?? "replace";
    if (!(PROMOTE_MODES as readonly string[]).includes(mode)) {
      throw new RangeError(`Invalid --mode "${mode}": expected one of ${PROMOTE_MODES.join(", ")}`);
    }
    const switchedAlternateName = stringFlag(args, "switched-alternate-name", false);
    const dropAlternates = args["drop-alternates"] === true;
    if (dropAlternates && mode !== "replace") {
      throw new TypeError("Flag --drop-alternates is only used with --mode replace");
    }
    const options = {
      alternateKey,
      mode: mode as PromoteMode,
      switchedAlternateName: switchedAlternateName ?? DEFAULT_SWITCHED_ALTERNATE_NAME,
      dropAlternates,
    };
    const stats = await run(io, (i) => promoteAlternate(i, options));
    if (stats.items > 0 && stats.changedAssets === 0) {
      await warn(io, "promote-alternate", `no asset has alternate "${alternateKey}" with an href`);
    }
    return EXIT.ok;
  },
};

/** The `items enrich|add-alternate|remove-alternate|promote-alternate` commands. */
export const enrichCommands: Command[] = [
  enrich,
  addAlternateCommand,
  removeAlternateCommand,
  promoteAlternateCommand,
];
