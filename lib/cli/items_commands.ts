/**
 * The `items` command group: STAC items between JSON, NDJSON, Arrow IPC
 * streams (on pipes) and stac-geoparquet files.
 *
 * @module
 */
import {
  type Command,
  type CommandIO,
  EXIT,
  positional,
  writeJsonLine,
  writeText,
} from "./command.ts";
import { type ParsedArgs, positiveIntegerFlag } from "./parse_args.ts";
import type * as arrow from "apache-arrow";
import {
  allItemsToRecordBatches,
  decodeItemsBatch,
  DEFAULT_BATCH_SIZE,
  type ItemFilters,
  itemsFromJson,
  type ItemsToArrowOptions,
  itemsToRecordBatchesThroughSpool,
  ndjsonToRecordBatches,
  Preview,
  readIpcBatches,
  readItemsParquetRecordBatches,
  recordBatchesToIpc,
  type RereadableInput,
  type StacItem,
  withDatetimeKey,
  writeArrowAsItemsParquet,
} from "../stac/mod.ts";

const FILTER_FLAGS = ["collections", "providers", "item-ids"];

function filtersOf(args: ParsedArgs): ItemFilters {
  // Each value matches as given (an id may contain a comma) and as its
  // comma-separated parts (`--item-ids a,b` for two ids).
  const list = (name: string) => {
    const v = args[name];
    return Array.isArray(v) ? v.flatMap((s) => [s, ...s.split(",")]).filter((s) => s !== "") : [];
  };
  return {
    collections: list("collections"),
    providers: list("providers"),
    itemIds: list("item-ids"),
  };
}

function batchSizeOf(args: ParsedArgs): number {
  const value = args["batch-size"];
  return value === undefined ? DEFAULT_BATCH_SIZE : positiveIntegerFlag("batch-size", value);
}

async function inputOf(
  args: ParsedArgs,
  io: CommandIO,
): Promise<{ stream: ReadableStream<Uint8Array>; source: string }> {
  const file = args._[0];
  if (file === undefined || file === "-") return { stream: io.stdin, source: "stdin" };
  return { stream: (await Deno.open(file)).readable, source: file };
}

/**
 * The input of a `from-*` command as input read twice: a regular file as it
 * is; stdin, a FIFO or `/dev/fd/N` first saved to a temporary file (removed
 * by `remove`).
 */
async function rereadableInputOf(
  args: ParsedArgs,
  io: CommandIO,
): Promise<{ input: RereadableInput; source: string; remove: () => Promise<void> }> {
  const file = args._[0];
  const source = file === undefined || file === "-" ? "stdin" : file;
  const reopen = (path: string): RereadableInput => ({
    stream: async () => (await Deno.open(path)).readable,
  });
  if (source !== "stdin" && (await Deno.stat(source)).isFile) {
    return { input: reopen(source), source, remove: () => Promise.resolve() };
  }
  const temp = await Deno.makeTempFile({ prefix: "ferry-items-", suffix: ".ndjson" });
  const remove = () => Deno.remove(temp).catch(() => {});
  try {
    const spool = await Deno.open(temp, { write: true, truncate: true });
    const stream = source === "stdin" ? io.stdin : (await Deno.open(source)).readable;
    await stream.pipeTo(spool.writable, { preventCancel: source === "stdin" });
  } catch (error) {
    await remove();
    throw error;
  }
  return { input: reopen(temp), source, remove };
}

/**
 * Writes items to stdout: a preview on a terminal, else an Arrow IPC stream
 * whose schema holds every item. The items go through a temporary file
 * first (see `itemsToRecordBatchesThroughSpool`): the schema is written
 * before the first batch, and only the whole input tells it.
 *
 * @param batches The items.
 * @param io Standard streams.
 * @param options `batchSize`: regroup the arrays into record batches of that many items.
 * @returns The exit code.
 */
export async function emitItems(
  batches: AsyncIterable<StacItem[]>,
  io: CommandIO,
  options: ItemsToArrowOptions = {},
): Promise<number> {
  const temp = await Deno.makeTempFile({ prefix: "ferry-items-", suffix: ".arrows" });
  try {
    const file = await Deno.open(temp, { write: true, truncate: true });
    const spool = {
      writable: file.writable,
      readable: async () => (await Deno.open(temp)).readable,
    };
    return await emitRecordBatches(itemsToRecordBatchesThroughSpool(batches, spool, options), io);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Writes record batches of items to stdout: a preview on a terminal, else an
 * Arrow IPC stream.
 *
 * @param records The schema and batches (once the schema is known).
 * @param io Standard streams.
 * @returns The exit code.
 */
async function emitRecordBatches(
  records: Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }>,
  io: CommandIO,
): Promise<number> {
  const { schema, batches } = await records;
  if (io.stdoutIsTerminal) {
    const preview = new Preview();
    preview.setSchema(schema);
    for await (const batch of batches) preview.add(batch);
    await writeText(io.stdout, preview.render());
  } else {
    await recordBatchesToIpc(schema, batches).pipeTo(io.stdout, { preventClose: true });
  }
  return EXIT.ok;
}

/**
 * Writes a file through a temporary name in the same folder, renamed into
 * place only when `write` succeeds; removed otherwise.
 */
async function atomicFile<T>(
  path: string,
  write: (sink: WritableStream<Uint8Array>) => Promise<T>,
): Promise<T> {
  const slash = path.lastIndexOf("/");
  const dir = slash === -1 ? "." : path.slice(0, slash) || "/";
  const temp = `${dir}/.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const file = await Deno.open(temp, { write: true, createNew: true });
  try {
    const result = await write(file.writable);
    await Deno.rename(temp, path);
    return result;
  } catch (error) {
    try {
      file.close();
    } catch {
      // already closed by the stream
    }
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

const fromFlags = {
  string: ["batch-size"],
  collect: FILTER_FLAGS,
};

const fromJson: Command = {
  name: ["items", "from-json"],
  summary: "Read a STAC Item, FeatureCollection, ItemCollection or array of Items (FILE or stdin)",
  usage: "[FILE] [--collections C]... [--providers P]... [--item-ids ID]... [--batch-size N]",
  args: fromFlags,
  async run(args, io) {
    const { stream, source } = await inputOf(args, io);
    const batchSize = batchSizeOf(args);
    const options = { source, filters: filtersOf(args), batchSize };
    // The document is read whole anyway: the schema is made from every item.
    const items = (await Array.fromAsync(itemsFromJson(stream, options))).flat();
    return emitRecordBatches(Promise.resolve(allItemsToRecordBatches(items, { batchSize })), io);
  },
};

const fromNdjson: Command = {
  name: ["items", "from-ndjson"],
  summary: "Read STAC Items, one JSON object a line (FILE or stdin)",
  usage: "[FILE] [--collections C]... [--providers P]... [--item-ids ID]... [--batch-size N]",
  args: fromFlags,
  async run(args, io) {
    const batchSize = batchSizeOf(args);
    const filters = filtersOf(args);
    // Read twice (its shapes, then its items): the schema, written first,
    // must hold every item.
    const { input, source, remove } = await rereadableInputOf(args, io);
    try {
      return await emitRecordBatches(
        ndjsonToRecordBatches(input, { source, filters, batchSize }),
        io,
      );
    } finally {
      await remove();
    }
  },
};

const fromParquet: Command = {
  name: ["items", "from-parquet"],
  summary: "Read STAC Items from a stac-geoparquet file",
  usage: "FILE [--collections C]... [--providers P]... [--item-ids ID]... [--batch-size N]",
  args: fromFlags,
  run(args, io) {
    const file = positional(args, 0, "FILE");
    const options = { batchSize: batchSizeOf(args), filters: filtersOf(args) };
    return emitRecordBatches(readItemsParquetRecordBatches(file, options), io);
  },
};

const toParquet: Command = {
  name: ["items", "to-parquet"],
  summary: "Write the items of an Arrow IPC stream on stdin to a stac-geoparquet FILE",
  usage: "FILE [--row-group-size N]",
  args: { string: ["row-group-size"] },
  async run(args, io) {
    const path = positional(args, 0, "FILE");
    const text = args["row-group-size"];
    const rowGroupSize = text === undefined ? undefined : Number(text);
    const { rows } = await atomicFile(path, async (sink) => {
      const { schema, batches } = await readIpcBatches(io.stdin);
      return writeArrowAsItemsParquet(schema, batches, sink, {
        rowGroupSize,
        releaseBatches: true,
      });
    });
    if (!io.stdoutIsTerminal) await writeJsonLine(io.stdout, { path, rows });
    else await writeText(io.stdout, `${rows} rows written to ${path}\n`);
    return EXIT.ok;
  },
};

const encoder = new TextEncoder();

async function writeNdjson(
  stdin: ReadableStream<Uint8Array>,
  sink: WritableStream<Uint8Array>,
  close: boolean,
): Promise<number> {
  const { batches } = await readIpcBatches(stdin);
  const writer = sink.getWriter();
  let rows = 0;
  try {
    for await (const batch of batches) {
      // STAC requires `datetime`: null when the item has none (Parquet and
      // Arrow do not keep a null apart from an absent key).
      const items = decodeItemsBatch(batch).map(withDatetimeKey);
      rows += items.length;
      if (items.length > 0) {
        await writer.write(encoder.encode(items.map((i) => JSON.stringify(i)).join("\n") + "\n"));
      }
    }
    if (close) await writer.close();
  } catch (error) {
    if (close) await writer.abort(error).catch(() => {});
    throw error;
  } finally {
    writer.releaseLock();
  }
  return rows;
}

const toNdjson: Command = {
  name: ["items", "to-ndjson"],
  summary: "Write the items of an Arrow IPC stream on stdin as NDJSON (to FILE or stdout)",
  usage: "[FILE]",
  args: {},
  async run(args, io) {
    const path = args._[0];
    if (path === undefined || path === "-") await writeNdjson(io.stdin, io.stdout, false);
    else await atomicFile(path, (sink) => writeNdjson(io.stdin, sink, true));
    return EXIT.ok;
  },
};

/** The `items` commands. */
export const itemsCommands: Command[] = [fromJson, fromNdjson, fromParquet, toParquet, toNdjson];
