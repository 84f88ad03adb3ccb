/**
 * The writer of each column of an items record batch: it takes one row's
 * value from a parsed item (putting what does not fit into the row's
 * overflow) or from the JSON bytes of an NDJSON line.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { StacItem } from "./item.ts";
import { geometryToWkb, lastGeometryWkb, readGeometryJson } from "./wkb.ts";
import {
  appenderFor,
  ByteValues,
  type Checkpoint,
  Numbers,
  TimestampAppender,
  Validity,
} from "./column_builders.ts";
import { isNull, numberValue, scanNumber, skipWhitespace } from "./json_scan.ts";
import { datetimeFits, instantMicros } from "./datetime.ts";
import type { OVERFLOW_COLUMN } from "./item_layout.ts";
import type { ValueLayout } from "./value_layout.ts";
import { fitCheckOf, splitToFit } from "./value_fit.ts";
import { bboxFits, geometryExtras } from "./item_shapes.ts";

/** One column of an items schema and what its values are. */
export type ItemColumn =
  | { name: "type"; role: "type"; field: arrow.Field }
  | { name: string; role: "core" | "property"; layout: ValueLayout; field: arrow.Field }
  | { name: "geometry"; role: "geometry"; field: arrow.Field }
  | { name: "bbox"; role: "bbox"; hasZ: boolean; field: arrow.Field }
  | { name: typeof OVERFLOW_COLUMN; role: "overflow"; field: arrow.Field };

/** What did not fit the schema of one row, created on first use. */
export class RowOverflow {
  /** The row's overflow object, undefined while nothing overflowed. */
  value: Record<string, unknown> | undefined;

  /** The overflow object (made on first use). */
  item(): Record<string, unknown> {
    return (this.value ??= {});
  }

  /** The overflow's `properties` object (made on first use). */
  properties(): Record<string, unknown> {
    return ((this.item().properties ??= {}) as Record<string, unknown>);
  }
}

/** Takes one row's value of a column; may put what does not fit into the row's overflow. */
export type ColumnWriter = {
  add(item: StacItem, overflow: RowOverflow): void;
  appendNull(): void;
  /** The value's JSON bytes at `b[i]`: the index after them, or -1 when they do not fit. */
  read(b: Uint8Array, i: number): number;
  finish(): arrow.Data;
};

/**
 * The writer of a geometry, bbox, core or property column.
 *
 * @param column The column (not the overflow column: the batch builder owns that).
 * @param checkpoint Where its buffers register.
 * @returns The writer.
 */
export function columnWriterOf(column: ItemColumn, checkpoint: Checkpoint): ColumnWriter {
  switch (column.role) {
    case "overflow":
      throw new TypeError("The overflow column has no writer of its own");
    case "type":
      return typeWriter(column.field.type as arrow.Utf8, checkpoint);
    case "geometry":
      return geometryWriter(column.field.type as arrow.Binary, checkpoint);
    case "bbox":
      return bboxWriter(column.field.type as arrow.Struct, column.hasZ, checkpoint);
    default:
      return column.layout.kind === "timestamp"
        ? timestampWriter(column.name, column.role, column.layout.format, checkpoint)
        : valueWriter(column.name, column.role, column.layout, column.field.type, checkpoint);
  }
}

function timestampWriter(
  name: string,
  role: "core" | "property",
  format: (ValueLayout & { kind: "timestamp" })["format"],
  checkpoint: Checkpoint,
): ColumnWriter {
  const out = new TimestampAppender(format, checkpoint);
  const isProperty = role === "property";
  return {
    add(item, overflow) {
      const v = isProperty ? item.properties?.[name] : item[name];
      const us = typeof v === "string" ? datetimeFits(v, format) : undefined;
      if (us !== undefined || v === null || v === undefined) {
        out.append(v);
        return;
      }
      // Not given back by the column's format: the exact value goes to
      // the overflow, the column still holds the instant when it is one.
      overflow.properties()[name] = v;
      const instant = typeof v === "string" ? instantMicros(v) : undefined;
      out.valid.push(instant !== undefined);
      out.values.push(instant ?? 0);
    },
    appendNull: () => out.appendNull(),
    read: (b, i) => out.read(b, i),
    finish: () => out.finish(),
  };
}

function valueWriter(
  name: string,
  role: "core" | "property",
  layout: ValueLayout,
  type: arrow.DataType,
  checkpoint: Checkpoint,
): ColumnWriter {
  const out = appenderFor(layout, type, checkpoint);
  const fits = fitCheckOf(layout);
  const isProperty = role === "property";
  return {
    add(item, overflow) {
      const v = isProperty ? item.properties?.[name] : item[name];
      if (v === undefined || v === null) out.append(null);
      else if (fits(v)) out.append(v);
      else {
        const part = splitToFit(v, layout);
        if (isProperty) overflow.properties()[name] = part.rest;
        else overflow.item()[name] = part.rest;
        out.append(part.value);
      }
    },
    appendNull: () => out.appendNull(),
    read: (b, i) => out.read(b, i),
    finish: () => out.finish(),
  };
}

const FEATURE = new TextEncoder().encode('"Feature"');

/** The `type` column: `Feature` on every row (the item's `type` is checked elsewhere). */
function typeWriter(type: arrow.Utf8, checkpoint: Checkpoint): ColumnWriter {
  const valid = new Validity(checkpoint);
  const out = new ByteValues(checkpoint);
  const push = () => {
    valid.push(true);
    out.pushBytes(FEATURE, 1, FEATURE.length - 1);
  };
  return {
    add: push,
    appendNull: push,
    read(b, i) {
      for (let k = 0; k < FEATURE.length; k++) if (b[i + k] !== FEATURE[k]) return -1;
      push();
      return i + FEATURE.length;
    },
    finish() {
      const { offsets, bytes } = out.finish();
      return arrow.makeData({ ...valid.fields(), type, valueOffsets: offsets, data: bytes });
    },
  };
}

function geometryWriter(type: arrow.Binary, checkpoint: Checkpoint): ColumnWriter {
  const valid = new Validity(checkpoint);
  const out = new ByteValues(checkpoint);
  const push = (wkb: Uint8Array | undefined) => {
    valid.push(wkb !== undefined);
    if (wkb === undefined) out.pushText("");
    else out.pushBytes(wkb, 0, wkb.length);
  };
  return {
    add(item, overflow) {
      const g = item.geometry;
      if (g === null || g === undefined) {
        push(undefined);
        return;
      }
      const extras = geometryExtras(g);
      const wkb = extras === "all" ? undefined : geometryToWkb(g);
      if (wkb === undefined) overflow.item().geometry = g;
      else if (extras !== undefined && extras !== "all") overflow.item().geometry = extras;
      push(wkb);
    },
    appendNull: () => push(undefined),
    read(b, i) {
      if (isNull(b, i)) {
        push(undefined);
        return i + 4;
      }
      const end = readGeometryJson(b, i);
      if (end < 0) return -1;
      const wkb = lastGeometryWkb();
      valid.push(true);
      out.pushBytes(wkb, 0, wkb.length);
      return end;
    },
    finish() {
      const { offsets, bytes } = out.finish();
      return arrow.makeData({ ...valid.fields(), type, valueOffsets: offsets, data: bytes });
    },
  };
}

/** The bbox struct column; a 2D box in a 3D column has null z values. */
function bboxWriter(type: arrow.Struct, hasZ: boolean, checkpoint: Checkpoint): ColumnWriter {
  const valid = new Validity(checkpoint);
  const zValid = new Validity(checkpoint);
  const columns = Array.from({ length: hasZ ? 6 : 4 }, () => new Numbers(checkpoint));
  const box = new Float64Array(6);
  const push = (v: ArrayLike<number> | undefined) => {
    valid.push(v !== undefined);
    zValid.push(v !== undefined && v.length === 6);
    if (v === undefined) { for (const c of columns) c.push(0); }
    else if (v.length === 6) { for (let j = 0; j < 6; j++) columns[j]!.push(v[j]!); }
    else if (hasZ) {
      columns[0]!.push(v[0]!);
      columns[1]!.push(v[1]!);
      columns[2]!.push(0);
      columns[3]!.push(v[2]!);
      columns[4]!.push(v[3]!);
      columns[5]!.push(0);
    } else for (let j = 0; j < 4; j++) columns[j]!.push(v[j]!);
  };
  return {
    add(item, overflow) {
      const v = item.bbox;
      const fits = bboxFits(v, hasZ);
      if (v !== undefined && v !== null && !fits) overflow.item().bbox = v;
      push(fits ? v : undefined);
    },
    appendNull: () => push(undefined),
    read(b, i) {
      if (isNull(b, i)) {
        push(undefined);
        return i + 4;
      }
      if (b[i] !== 0x5b) return -1;
      let n = 0;
      i = skipWhitespace(b, i + 1);
      for (;;) {
        i = scanNumber(b, i);
        if (i < 0 || n === 6) return -1;
        box[n++] = numberValue;
        i = skipWhitespace(b, i);
        if (b[i] === 0x5d) break;
        if (b[i] !== 0x2c) return -1;
        i = skipWhitespace(b, i + 1);
      }
      if (n !== 4 && !(n === 6 && hasZ)) return -1;
      push(n === 6 ? box : box.subarray(0, 4));
      return i + 1;
    },
    finish() {
      const fields = valid.fields();
      const zFields = zValid.fields();
      const children = type.children.map((field, j) => {
        const f = hasZ && (j === 2 || j === 5) ? zFields : fields;
        return arrow.makeData({
          type: field.type as arrow.Float64,
          length: f.length,
          nullCount: f.nullCount,
          nullBitmap: f.nullBitmap,
          data: columns[j]!.float64(),
        });
      });
      return arrow.makeData({ ...fields, type, children });
    },
  };
}
