/**
 * Items into the columns of one Arrow record batch, one at a time: from a
 * parsed item, or straight from the bytes of its NDJSON line when every
 * value fits the schema as it is.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { StacItem } from "./item.ts";
import { type Appender, appenderFor, Checkpoint, readObject } from "./column_builders.ts";
import { skipWhitespace } from "./json_scan.ts";
import { CORE_COLUMN_NAMES } from "./item_layout.ts";
import { STRING_LAYOUT } from "./value_layout.ts";
import {
  type ColumnWriter,
  columnWriterOf,
  type ItemColumn,
  RowOverflow,
} from "./item_column_writers.ts";

const utf8Encoder = new TextEncoder();
const FEATURE = utf8Encoder.encode('"Feature"');

/** The item's `type` value: exactly `"Feature"`. */
function readFeature(b: Uint8Array, i: number): number {
  for (let k = 0; k < FEATURE.length; k++) if (b[i + k] !== FEATURE[k]) return -1;
  return i + FEATURE.length;
}

/** The item paths of an overflow object, for an error (at most a few). */
function overflowPaths(overflow: Record<string, unknown>): string {
  const paths: string[] = [];
  for (const key in overflow) {
    const v = overflow[key];
    if (key === "properties" && v !== null && typeof v === "object") {
      for (const name in v) paths.push(`properties.${name}`);
    } else paths.push(key);
  }
  const shown = paths.slice(0, 5).map((p) => JSON.stringify(p)).join(", ");
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/** Reads one member's value of an object from its bytes (see `readObject`). */
type ValueReader = { read(b: Uint8Array, i: number): number };

/**
 * Items into the columns of one record batch, one item at a time (see
 * `ItemsEncoder.builder`).
 */
export class ItemsBatchBuilder {
  readonly #schema: arrow.Schema;
  readonly #writers: ColumnWriter[];
  /** The overflow column, when the schema has one. */
  readonly #overflow: Appender | undefined;
  readonly #propertyNames: Set<string>;
  readonly #checkpoint = new Checkpoint();
  /** Item keys read from bytes: `type`, `properties`, then the core columns. */
  readonly #itemKeys: Uint8Array[];
  readonly #itemReaders: ValueReader[];
  /** Per item key, the stamp of the line it was last read in. */
  readonly #itemKeyStamps: Uint32Array;
  readonly #propertyKeys: Uint8Array[];
  readonly #propertyWriters: ColumnWriter[];
  /** Per property column, the stamp of the line it was last read in. */
  readonly #propertyStamps: Uint32Array;
  readonly #coreWriters: ColumnWriter[];
  readonly #idKey: number;
  readonly #geometryKey: number;
  /** Counts the lines read from bytes: each line's keys are marked with it. */
  #lineStamp = 0;
  #length = 0;

  /**
   * @param schema The schema of the batch.
   * @param columns The columns of the schema.
   * @param propertyNames The property columns.
   */
  constructor(schema: arrow.Schema, columns: readonly ItemColumn[], propertyNames: Set<string>) {
    this.#schema = schema;
    this.#propertyNames = propertyNames;
    this.#writers = [];
    const checkpoint = this.#checkpoint;
    let overflow: Appender | undefined;
    let typeColumn: ColumnWriter | undefined;
    const core: [string, ColumnWriter][] = [];
    const properties: [string, ColumnWriter][] = [];
    for (const column of columns) {
      if (column.role === "overflow") {
        overflow = appenderFor(STRING_LAYOUT, column.field.type, checkpoint);
        const o = overflow;
        this.#writers.push({
          add() {},
          appendNull() {},
          read: () => -1,
          finish: () => o.finish(),
        });
      } else {
        const writer = columnWriterOf(column, checkpoint);
        this.#writers.push(writer);
        if (column.role === "type") typeColumn = writer;
        else (column.role === "property" ? properties : core).push([column.name, writer]);
      }
    }
    this.#overflow = overflow;
    this.#coreWriters = core.map(([, w]) => w);
    this.#propertyWriters = properties.map(([, w]) => w);
    this.#propertyKeys = properties.map(([name]) => utf8Encoder.encode(name));
    this.#propertyStamps = new Uint32Array(properties.length);
    this.#itemKeys = ["type", "properties", ...core.map(([name]) => name)].map((name) =>
      utf8Encoder.encode(name)
    );
    this.#itemReaders = [
      typeColumn ?? { read: readFeature },
      { read: (b, i) => this.#readProperties(b, i) },
      ...core.map(([name, w]) => ({
        read: name === "links"
          ? (b: Uint8Array, i: number) => (b[i] === 0x5b ? w.read(b, i) : -1)
          : name === "assets"
          ? (b: Uint8Array, i: number) => (b[i] === 0x7b ? w.read(b, i) : -1)
          : name === "id"
          ? (b: Uint8Array, i: number) => (b[i] === 0x22 && b[i + 1] !== 0x22 ? w.read(b, i) : -1)
          : (b: Uint8Array, i: number) => w.read(b, i),
      })),
    ];
    this.#itemKeyStamps = new Uint32Array(this.#itemKeys.length);
    const keyOf = (name: string) => 2 + core.findIndex(([n]) => n === name);
    this.#idKey = keyOf("id");
    this.#geometryKey = keyOf("geometry");
  }

  /** Rows added so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Adds one item as the next row.
   *
   * @param item The item.
   * @throws {RangeError} When the schema has no overflow column and some
   *   part of the item has no column (nothing is added then).
   */
  add(item: StacItem): void {
    if (!this.#overflow) this.#checkpoint.save();
    const overflow = new RowOverflow();
    for (const key in item) {
      if (key !== "type" && key !== "properties" && !CORE_COLUMN_NAMES.has(key)) {
        overflow.item()[key] = item[key];
      }
    }
    if (item.properties === undefined) overflow.item().properties = undefined;
    for (const key in item.properties) {
      if (!this.#propertyNames.has(key)) overflow.properties()[key] = item.properties[key];
    }
    const writers = this.#writers;
    for (let j = 0; j < writers.length; j++) writers[j]!.add(item, overflow);
    if (this.#overflow) {
      this.#overflow.append(overflow.value === undefined ? null : JSON.stringify(overflow.value));
    } else if (overflow.value !== undefined) {
      this.#checkpoint.restore();
      throw new RangeError(
        `Item ${JSON.stringify(item.id)} does not fit the schema: no column holds ${
          overflowPaths(overflow.value)
        }`,
      );
    }
    this.#length++;
  }

  /**
   * Adds the item of one NDJSON line as the next row, read from its bytes
   * without building the item, when it is a valid Item whose every value
   * fits the schema as it is (no overflow). Otherwise nothing is added and
   * the caller parses the line and calls {@linkcode ItemsBatchBuilder.add}.
   *
   * @example
   * ```ts
   * import { ItemsEncoder } from "./items_encoder.ts";
   * import { equal } from "node:assert/strict";
   * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
   *   properties: { n: 1 }, links: [], assets: {} };
   * const builder = ItemsEncoder.infer([item]).builder();
   * const line = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
   * equal(builder.addJsonLine(line({ ...item, id: "b" })), true);
   * equal(builder.addJsonLine(line({ ...item, properties: { n: "text" } })), false);
   * equal(builder.finish().numRows, 1);
   * ```
   *
   * @param line The line (nothing else: reading stops at its end).
   * @returns Whether the item was added.
   */
  addJsonLine(line: Uint8Array): boolean {
    this.#checkpoint.save();
    const stamp = ++this.#lineStamp;
    const stamps = this.#itemKeyStamps;
    let end = readObject(
      line,
      skipWhitespace(line, 0),
      this.#itemKeys,
      stamps,
      stamp,
      this.#itemReaders,
    );
    if (end >= 0) end = skipWhitespace(line, end);
    if (
      end !== line.length || stamps[0] !== stamp || stamps[1] !== stamp ||
      stamps[this.#idKey] !== stamp || stamps[this.#geometryKey] !== stamp
    ) {
      this.#checkpoint.restore();
      return false;
    }
    const core = this.#coreWriters;
    for (let j = 0; j < core.length; j++) if (stamps[j + 2] !== stamp) core[j]!.appendNull();
    const props = this.#propertyWriters;
    const propertyStamps = this.#propertyStamps;
    for (let j = 0; j < props.length; j++) {
      if (propertyStamps[j] !== stamp) props[j]!.appendNull();
    }
    this.#overflow?.appendNull();
    this.#length++;
    return true;
  }

  #readProperties(b: Uint8Array, i: number): number {
    return readObject(
      b,
      i,
      this.#propertyKeys,
      this.#propertyStamps,
      this.#lineStamp,
      this.#propertyWriters,
    );
  }

  /**
   * Finishes the batch (the builder is not to be used afterwards).
   *
   * @returns The record batch of the rows added.
   */
  finish(): arrow.RecordBatch {
    const children = this.#writers.map((w) => w.finish());
    const data = arrow.makeData({
      type: new arrow.Struct(this.#schema.fields),
      length: this.#length,
      nullCount: 0,
      children,
    });
    return new arrow.RecordBatch(this.#schema, data);
  }
}
