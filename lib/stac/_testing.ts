/**
 * Test helpers for the stac package (not exported).
 *
 * @module
 */
import { itemsFromJsonText } from "./json_input.ts";
import type { StacItem } from "./item.ts";

/** The folder of the copied STAC fixtures. */
export const FIXTURES: URL = new URL("../../tests/fixtures/stac/", import.meta.url);

/** The item fixtures (JSON files holding Items). */
export const ITEM_FIXTURES: readonly string[] = [
  "3dep-lidar-copc-pc.json",
  "cop-dem-glo-30-pc.json",
  "io-lulc-pc.json",
  "naip-pc.json",
  "planet-nicfi-analytic-pc.json",
  "sentinel-2-l2a-pc.json",
  "collectionless-item.json",
  "core-item.json",
  "extended-item.json",
  "simple-item.json",
];

/**
 * Reads a fixture's items.
 *
 * @param name The file name.
 * @returns The items.
 */
export async function fixtureItems(name: string): Promise<StacItem[]> {
  return itemsFromJsonText(await Deno.readTextFile(new URL(name, FIXTURES)), { source: name });
}

/**
 * A JSON value with every null object member removed (Parquet cannot tell
 * absent from null).
 *
 * @param value The value.
 * @returns The value without null members.
 */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

/**
 * Yields the items in batches.
 *
 * @param items The items.
 * @param size Items per batch.
 * @returns Batches.
 */
export async function* inBatches(items: StacItem[], size: number): AsyncIterable<StacItem[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * Collects a byte stream sink's output.
 *
 * @returns The sink and a function returning the bytes written.
 */
export function memorySink(): { sink: WritableStream<Uint8Array>; bytes: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    sink: new WritableStream({ write: (c) => void chunks.push(c.slice()) }),
    bytes: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.byteLength;
      }
      return out;
    },
  };
}
