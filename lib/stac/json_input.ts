/**
 * STAC Items from JSON (a Feature, FeatureCollection, ItemCollection or an
 * array of Items) and from NDJSON (one Item a line), in batches, filtered.
 *
 * @module
 */
import {
  type InputPosition,
  providerNamesOf,
  StacInputError,
  type StacItem,
  validateItem,
} from "./item.ts";

/** Which items to keep. Each list, when non-empty, must match. */
export interface ItemFilters {
  /** Keep items whose `collection` is one of these. */
  collections?: readonly string[] | undefined;
  /**
   * Keep items with a provider name among these: `properties.providers[].name`
   * (or a plain string entry), `properties.provider` or
   * `properties["oam:producer_name"]` (see `providerNamesOf`).
   */
  providers?: readonly string[] | undefined;
  /** Keep items whose `id` is one of these. */
  itemIds?: readonly string[] | undefined;
}

/** Options of the JSON/NDJSON readers. */
export interface JsonInputOptions {
  /** The source name for errors. @default "stdin" */
  source?: string;
  /** Filters. @default {} */
  filters?: ItemFilters;
  /** Items per batch. @default 64000 (`DEFAULT_BATCH_SIZE`) */
  batchSize?: number;
}

/** The default number of items per batch. */
export const DEFAULT_BATCH_SIZE = 64000;

/** What a filter reads of an item (a `StacItem` fits). */
export interface FilterableItem {
  /** The item id. */
  id: string;
  /** The item's collection. */
  collection?: unknown;
  /** The item's properties. */
  properties?: Record<string, unknown> | null | undefined;
}

/**
 * {@linkcode itemMatcher} when a filter is set, else undefined: callers skip
 * the per-item call when every item passes.
 *
 * @example
 * ```ts
 * import { itemFilter } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * equal(itemFilter({ itemIds: [], providers: [] }), undefined);
 * equal(itemFilter({ itemIds: ["a"] })!({ id: "a" }), true);
 * ```
 *
 * @param filters The filters.
 * @returns The predicate, or undefined for "all".
 */
export function itemFilter(
  filters: ItemFilters | undefined,
): ((item: FilterableItem) => boolean) | undefined {
  const f = filters;
  return f?.collections?.length || f?.providers?.length || f?.itemIds?.length
    ? itemMatcher(f)
    : undefined;
}

/**
 * A predicate for {@linkcode ItemFilters}.
 *
 * @example
 * ```ts
 * import { itemMatcher } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const keep = itemMatcher({ providers: ["Esri"] });
 * equal(keep({ properties: { providers: [{ name: "Esri" }] } } as never), true);
 * equal(keep({ properties: { "oam:producer_name": "Esri" } } as never), true);
 * equal(keep({ properties: {} } as never), false);
 * ```
 *
 * @param filters The filters.
 * @returns A function that says whether an item passes.
 */
export function itemMatcher(filters: ItemFilters = {}): (item: FilterableItem) => boolean {
  const collections = filters.collections?.length ? new Set(filters.collections) : undefined;
  const providers = filters.providers?.length ? new Set(filters.providers) : undefined;
  const ids = filters.itemIds?.length ? new Set(filters.itemIds) : undefined;
  return (item) => {
    if (ids && !ids.has(item.id)) return false;
    if (collections && !(typeof item.collection === "string" && collections.has(item.collection))) {
      return false;
    }
    if (providers) {
      for (const name of providerNamesOf(item)) if (providers.has(name)) return true;
      return false;
    }
    return true;
  };
}

/**
 * Keeps the items that pass `filters`.
 *
 * @example
 * ```ts
 * import { filterItems } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const items = [{ id: "a", collection: "c" }, { id: "b", collection: "d" }] as never[];
 * equal(filterItems(items, { collections: ["d"] }).length, 1);
 * ```
 *
 * @param items The items.
 * @param filters The filters.
 * @returns The items that pass.
 */
export function filterItems(items: StacItem[], filters: ItemFilters = {}): StacItem[] {
  const keep = itemMatcher(filters);
  return items.filter(keep);
}

function lineOfPosition(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The offset where `text` stops being valid JSON (for error positions). */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return;
        } else fail();
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(
        text.slice(i, i + 400),
      );
      if (!m) fail();
      i += m![0].length;
    }
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      i += text[i] === "\\" ? 2 : 1;
    }
    if (i >= text.length) fail();
    i++;
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (at) {
    return typeof at === "number" ? at : 0;
  }
}

function parseJson(text: string, position: InputPosition): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // A byte order mark inside a stream (files with one each, concatenated).
    if (text.charCodeAt(0) === 0xfeff) return parseJson(text.slice(1), position);
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/.exec(message)?.[1] ?? String(jsonErrorOffset(text));
    let detail = message.replace(/^JSON\.parse: /, "").replace(/\s*\(line \d+ column \d+\)/, "")
      .replace(/\s+/g, " ");
    if (detail.length > 160) detail = detail.slice(0, 159) + "…";
    if (text.trim() === "") {
      throw new StacInputError("Invalid JSON: empty input", position, { cause: error });
    }
    // The gzip magic bytes 1f 8b as decoded text.
    if (text.charCodeAt(0) === 0x1f && text.charCodeAt(1) === 0xfffd) {
      throw new StacInputError(
        "Invalid JSON: the input is gzip-compressed (decompress it first, e.g. with gunzip -c)",
        { ...position, line: position.line ?? 1 },
        { cause: error },
      );
    }
    // A UTF-16 byte order mark (FF FE or FE FF) decoded as UTF-8.
    if (text.charCodeAt(0) === 0xfffd && text.charCodeAt(1) === 0xfffd) {
      throw new StacInputError(
        "Invalid JSON: the input looks UTF-16 encoded (convert it to UTF-8 first)",
        { ...position, line: position.line ?? 1 },
        { cause: error },
      );
    }
    // Control characters of binary input would garble a terminal.
    detail = detail.replace(
      // deno-lint-ignore no-control-regex
      /[\u0000-\u001f\u007f-\u009f\ufffd]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    if (position.line === undefined) {
      position = { ...position, line: lineOfPosition(text, Number(at)) };
    }
    throw new StacInputError(`Invalid JSON: ${detail}`, position, { cause: error });
  }
}

/**
 * Parses a JSON document holding a Feature, a FeatureCollection, an
 * ItemCollection or an array of Items.
 *
 * @example
 * ```ts
 * import { itemsFromJsonText } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const text = JSON.stringify({ type: "FeatureCollection", features: [
 *   { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} },
 * ] });
 * equal(itemsFromJsonText(text, { source: "x.json" })[0]!.id, "a");
 * ```
 *
 * @param text The JSON text.
 * @param options The source name for errors.
 * @returns The items.
 * @throws {StacInputError} On malformed JSON or a value that is not one of those.
 */
export function itemsFromJsonText(text: string, options: { source?: string } = {}): StacItem[] {
  const source = options.source ?? "stdin";
  const value = parseJson(text, { source });
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (typeof value === "object" && value !== null) {
    const type = (value as { type?: unknown }).type;
    if (type === "Feature") return [validateItem(value, { source })];
    if (type === "FeatureCollection" || type === "ItemCollection") {
      const features = (value as { features?: unknown }).features;
      if (!Array.isArray(features)) {
        throw new StacInputError(`${type} has no "features" array`, { source });
      }
      list = features;
    } else {
      throw new StacInputError(
        `Expected a STAC Item (Feature), FeatureCollection, ItemCollection or array of Items, got ${
          type === undefined ? "an object without type" : `type ${JSON.stringify(type)}`
        }`,
        { source },
      );
    }
  } else {
    throw new StacInputError(
      `Expected a STAC Item (Feature), FeatureCollection, ItemCollection or array of Items, got ${
        value === null ? "null" : typeof value
      }`,
      { source },
    );
  }
  return list.map((v, i) => validateItem(v, { source, row: i + 1 }));
}

async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * Reads a JSON document (see {@linkcode itemsFromJsonText}) from a stream
 * and yields its items in batches, filtered. A JSON document is read whole
 * (use NDJSON for streams of any length).
 *
 * @example
 * ```ts
 * import { itemsFromJson } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * const stream = new Blob([JSON.stringify([item, { ...item, id: "b" }])]).stream();
 * const batches = await Array.fromAsync(itemsFromJson(stream, { batchSize: 1, filters: { itemIds: ["b"] } }));
 * equal(batches.length, 1);
 * equal(batches[0]![0]!.id, "b");
 * ```
 *
 * @param stream The bytes.
 * @param options Source name, filters, batch size.
 * @returns Batches of items (never empty).
 */
export async function* itemsFromJson(
  stream: ReadableStream<Uint8Array>,
  options: JsonInputOptions = {},
): AsyncIterable<StacItem[]> {
  const batchSize = checkBatchSize(options.batchSize);
  const keep = itemMatcher(options.filters);
  const items = itemsFromJsonText(await readText(stream), options).filter(keep);
  for (let i = 0; i < items.length; i += batchSize) yield items.slice(i, i + batchSize);
}

function checkBatchSize(size: number | undefined): number {
  const n = size ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Invalid batch size ${n}: expected a positive integer`);
  }
  return n;
}

/**
 * Reads NDJSON (one Item a line; blank lines skipped) from a stream and
 * yields filtered batches. Memory holds one batch.
 *
 * @example
 * ```ts
 * import { itemsFromNdjson } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * const text = JSON.stringify(item) + "\n\n" + JSON.stringify({ ...item, id: "b" }) + "\n";
 * const batches = await Array.fromAsync(itemsFromNdjson(new Blob([text]).stream(), { batchSize: 1 }));
 * equal(batches.length, 2);
 * ```
 *
 * @param stream The bytes.
 * @param options Source name, filters, batch size.
 * @returns Batches of items (never empty).
 * @throws {StacInputError} Naming the line of a bad item.
 */
export async function* itemsFromNdjson(
  stream: ReadableStream<Uint8Array>,
  options: JsonInputOptions = {},
): AsyncIterable<StacItem[]> {
  const batchSize = checkBatchSize(options.batchSize);
  let batch: StacItem[] = [];
  for await (const chunk of ndjsonItemChunks(stream, options)) {
    for (const item of chunk) {
      batch.push(item);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Reads NDJSON like {@linkcode itemsFromNdjson} but yields the items of each
 * chunk read as soon as they are parsed (arrays of any length, never empty),
 * for a consumer that groups them itself (e.g. `itemsToIpc` with a
 * `batchSize`) and lets each item go once it is encoded.
 *
 * @example
 * ```ts
 * import { ndjsonItemChunks } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * const text = JSON.stringify(item) + "\n" + JSON.stringify({ ...item, id: "b" });
 * const chunks = await Array.fromAsync(ndjsonItemChunks(new Blob([text]).stream()));
 * equal(chunks.flat().length, 2);
 * ```
 *
 * @param stream The bytes.
 * @param options Source name and filters (the batch size is not used).
 * @returns Arrays of items.
 * @throws {StacInputError} Naming the line of a bad item.
 */
export async function* ndjsonItemChunks(
  stream: ReadableStream<Uint8Array>,
  options: JsonInputOptions = {},
): AsyncIterable<StacItem[]> {
  const source = options.source ?? "stdin";
  const keep = itemMatcher(options.filters);
  const decoder = new TextDecoder();
  let batch: StacItem[] = [];
  let rest = "";
  let line = 0;
  let lines: string[] = [];
  const take = (text: string) => {
    line++;
    if (text.trim() === "") return;
    const item = validateItem(parseJson(text, { source, line }), { source, line });
    if (keep(item)) {
      batch.push(item);
      lines.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    }
  };
  const chunk = () => {
    const out = batch;
    chunkLines.set(out, lines);
    batch = [];
    lines = [];
    return out;
  };
  for await (const bytes of stream) {
    const text = rest + decoder.decode(bytes, { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (batch.length > 0) yield chunk();
  }
  rest += decoder.decode();
  if (rest !== "") take(rest);
  if (batch.length > 0) yield chunk();
}

const lineDecoder = new TextDecoder();

/**
 * The item of one NDJSON line, checked, or undefined for a blank line.
 *
 * @example
 * ```ts
 * import { parseNdjsonLine } from "./json_input.ts";
 * import { equal, throws } from "node:assert/strict";
 * const line = (s: string) => new TextEncoder().encode(s);
 * equal(parseNdjsonLine(line(" "), { source: "x", line: 1 }), undefined);
 * throws(() => parseNdjsonLine(line("{"), { source: "x", line: 7 }), /x:7/);
 * ```
 *
 * @param bytes The line's bytes (UTF-8, invalid sequences read as U+FFFD).
 * @param position The source and line number, for errors.
 * @returns The item, or undefined.
 * @throws {StacInputError} When the line is not JSON or not an Item.
 */
export function parseNdjsonLine(
  bytes: Uint8Array,
  position: { source: string; line: number },
): StacItem | undefined {
  const text = lineDecoder.decode(bytes);
  if (text.trim() === "") return undefined;
  return validateItem(parseJson(text, position), position);
}

const chunkLines = new WeakMap<StacItem[], string[]>();

/**
 * The NDJSON lines the items of an array yielded by
 * {@linkcode ndjsonItemChunks} were parsed from (one per item, in order): a
 * consumer that must hold many items for a while can hold these instead
 * (far smaller than the parsed objects) and parse them again.
 *
 * @example
 * ```ts
 * import { ndjsonItemChunks, ndjsonLinesOf } from "./json_input.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * for await (const chunk of ndjsonItemChunks(new Blob([JSON.stringify(item)]).stream())) {
 *   equal(JSON.parse(ndjsonLinesOf(chunk)![0]!).id, "a");
 * }
 * ```
 *
 * @param chunk An array from `ndjsonItemChunks`.
 * @returns The lines, or undefined for another array.
 */
export function ndjsonLinesOf(chunk: readonly StacItem[]): string[] | undefined {
  return chunkLines.get(chunk as StacItem[]);
}
