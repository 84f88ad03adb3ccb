/**
 * Conveniences written once over the minimal {@linkcode ObjectStore} contract.
 *
 * @module
 */
import { NotFoundError } from "./errors.ts";
import type { ListEntry, ObjectMeta, ObjectStore, PutOptions, PutResult } from "./store.ts";
import { concatBytes } from "../bytes.ts";

/**
 * A one-chunk web stream of `bytes`.
 *
 * @param bytes The bytes.
 * @returns A stream that yields them once.
 */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * Reads a whole stream into one array. Only for small, bounded bodies
 * (metadata, manifests, tests); byte-moving paths stream instead.
 *
 * @param stream The stream.
 * @param limit Refuse bodies longer than this many bytes.
 * @returns The concatenated bytes.
 */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit = Number.MAX_SAFE_INTEGER,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > limit) throw new RangeError(`Body is larger than the limit of ${limit} bytes`);
    parts.push(chunk);
  }
  return concatBytes(parts);
}

/**
 * The whole object as bytes. For small objects only.
 *
 * @example Reading back what was written
 * ```ts
 * import { MemoryStore } from "./memory.ts";
 * import { getBytes, putBytes } from "./ext.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * await putBytes(store, "a/b.txt", new TextEncoder().encode("hi"));
 * deepEqual(await getBytes(store, "a/b.txt"), new TextEncoder().encode("hi"));
 * ```
 *
 * @param store Any store.
 * @param key The object's key.
 * @returns Its bytes.
 */
export async function getBytes(store: ObjectStore, key: string): Promise<Uint8Array> {
  return await readAll(await store.get(key));
}

/**
 * Writes `bytes` to `key`.
 *
 * @param store Any store.
 * @param key The object's key.
 * @param bytes The content.
 * @param options Content type, signal.
 * @returns What the store reports.
 */
export function putBytes(
  store: ObjectStore,
  key: string,
  bytes: Uint8Array,
  options: Omit<PutOptions, "size"> = {},
): Promise<PutResult> {
  return store.put(key, streamOf(bytes), { ...options, size: bytes.byteLength });
}

/**
 * The object's facts, or undefined when it is missing.
 *
 * @param store Any store.
 * @param key The object's key.
 * @returns Its meta or undefined.
 */
export async function headOrUndefined(
  store: ObjectStore,
  key: string,
): Promise<ObjectMeta | undefined> {
  try {
    return await store.head(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * Whether `key` exists.
 *
 * @param store Any store.
 * @param key The object's key.
 * @returns True when it exists.
 */
export async function exists(store: ObjectStore, key: string): Promise<boolean> {
  return (await headOrUndefined(store, key)) !== undefined;
}

/**
 * Every entry of a listing, collected. For tests and small listings.
 *
 * @param store Any store.
 * @param prefix Key prefix.
 * @param delimiter Optional delimiter.
 * @returns The entries in key order.
 */
export async function listAll(
  store: ObjectStore,
  prefix = "",
  delimiter?: string,
): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for await (const entry of store.list(prefix, delimiter ? { delimiter } : {})) out.push(entry);
  return out;
}
