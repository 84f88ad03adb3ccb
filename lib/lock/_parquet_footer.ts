/**
 * Dropping entries from a Parquet footer's key-value metadata (and putting
 * the rest in key order), byte for byte otherwise: parquet-wasm always stores
 * the Arrow schema (`ARROW:schema`) there, which a lock (ferry's or
 * stacpkg's) does not carry. Only the `key_value_metadata` list (field 5 of
 * the Thrift compact `FileMetaData`) is rewritten; every other byte is copied
 * as it is.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
const KEY_VALUE_METADATA = 5;
const STRUCT = 12;
const LIST = 9;

/** A Thrift compact-protocol reader of just what skipping needs. */
class Compact {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new RangeError("Parquet footer is truncated");
    return this.bytes[this.at++]!;
  }

  varint(): number {
    let shift = 0;
    let value = 0;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
      if (shift > 63) throw new RangeError("Parquet footer has a bad varint");
    }
  }

  /** A list or set header: its size and element type. */
  listHeader(): { size: number; type: number } {
    const b = this.byte();
    const size = b >> 4;
    return { size: size === 15 ? this.varint() : size, type: b & 0x0f };
  }

  /** Reads a field header: undefined at the struct's end. */
  field(lastId: number): { id: number; type: number } | undefined {
    const b = this.byte();
    const type = b & 0x0f;
    if (type === 0) return undefined;
    const delta = b >> 4;
    if (delta !== 0) return { id: lastId + delta, type };
    const zigzag = this.varint();
    return { id: zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2, type };
  }

  skip(type: number): void {
    switch (type) {
      case 1: // true
      case 2: // false
        return;
      case 3: // byte
        this.at += 1;
        return;
      case 4: // i16
      case 5: // i32
      case 6: // i64
        this.varint();
        return;
      case 7: // double
        this.at += 8;
        return;
      case 8: { // binary
        const length = this.varint();
        this.at += length;
        return;
      }
      case LIST:
      case 10: { // set
        const { size, type: element } = this.listHeader();
        // Booleans in a collection take one byte each.
        for (let i = 0; i < size; i++) element <= 2 ? this.at++ : this.skip(element);
        return;
      }
      case 11: { // map
        const size = this.varint();
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          (types >> 4) <= 2 ? this.at++ : this.skip(types >> 4);
          (types & 0x0f) <= 2 ? this.at++ : this.skip(types & 0x0f);
        }
        return;
      }
      case STRUCT: {
        let id = 0;
        for (let f = this.field(id); f; f = this.field(id)) {
          id = f.id;
          this.skip(f.type);
        }
        return;
      }
      default:
        throw new RangeError(`Parquet footer has an unknown Thrift type ${type}`);
    }
  }
}

/** The key of one `KeyValue` struct at the reader's position (the reader moves past it). */
function keyValueKey(reader: Compact): string | undefined {
  let id = 0;
  let key: string | undefined;
  for (let f = reader.field(id); f; f = reader.field(id)) {
    id = f.id;
    if (id === 1 && f.type === 8) {
      const length = reader.varint();
      key = new TextDecoder().decode(reader.bytes.subarray(reader.at, reader.at + length));
      reader.at += length;
    } else {
      reader.skip(f.type);
    }
  }
  return key;
}

/**
 * The Thrift compact-encoded `FileMetaData` without the key-value entries
 * whose key is in `drop`, the others sorted by key (parquet-wasm writes them
 * in hash-map order, which varies); the same bytes when nothing changes.
 */
export function dropFooterKeys(metadata: Uint8Array, drop: ReadonlySet<string>): Uint8Array {
  const reader = new Compact(metadata);
  let id = 0;
  for (let f = reader.field(id); f; f = reader.field(id)) {
    id = f.id;
    if (id !== KEY_VALUE_METADATA || f.type !== LIST) {
      reader.skip(f.type);
      continue;
    }
    const listStart = reader.at;
    const { size, type } = reader.listHeader();
    if (type !== STRUCT) throw new RangeError("Parquet footer has a bad key-value list");
    const entries: { key: string; bytes: Uint8Array }[] = [];
    for (let i = 0; i < size; i++) {
      const start = reader.at;
      const key = keyValueKey(reader) ?? "";
      entries.push({ key, bytes: metadata.subarray(start, reader.at) });
    }
    const kept = entries.filter((e) => !drop.has(e.key))
      .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    if (kept.length === size && kept.every((e, i) => e === entries[i])) return metadata;
    const header = kept.length < 15
      ? [(kept.length << 4) | STRUCT]
      : [0xf0 | STRUCT, ...varintBytes(kept.length)];
    return concatBytes([
      metadata.subarray(0, listStart),
      new Uint8Array(header),
      ...kept.map((e) => e.bytes),
      metadata.subarray(reader.at),
    ]);
  }
  return metadata;
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Bytes held back beyond the latest chunk, enough for any lock's footer. */
const HOLD_BYTES = 1 << 20;

/**
 * A stream stage for a whole Parquet file that drops key-value entries from
 * its footer (see {@linkcode dropFooterKeys}): chunks pass through as they come, except the last ones (the
 * latest chunk and at most {@linkcode HOLD_BYTES} before it), which hold the
 * footer.
 */
export class DropFooterKeysStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(drop: ReadonlySet<string>) {
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    super({
      transform(chunk, controller) {
        held.push(chunk);
        heldBytes += chunk.byteLength;
        while (held.length > 1 && heldBytes - held[0]!.byteLength >= HOLD_BYTES) {
          const first = held.shift()!;
          heldBytes -= first.byteLength;
          controller.enqueue(first);
        }
      },
      flush(controller) {
        const tail = concatBytes(held);
        held = [];
        const n = tail.byteLength;
        if (n < 12 || MAGIC.some((b, i) => tail[n - 4 + i] !== b)) {
          throw new RangeError("Parquet writer output does not end with a footer");
        }
        const length = new DataView(tail.buffer).getUint32(n - 8, true);
        if (length + 8 > n) throw new RangeError(`Parquet footer too large (${length} bytes)`);
        const start = n - 8 - length;
        const metadata = dropFooterKeys(tail.subarray(start, n - 8), drop);
        const trailer = new Uint8Array(8);
        new DataView(trailer.buffer).setUint32(0, metadata.byteLength, true);
        trailer.set(MAGIC, 4);
        controller.enqueue(concatBytes([tail.subarray(0, start), metadata, trailer]));
      },
    });
  }
}
