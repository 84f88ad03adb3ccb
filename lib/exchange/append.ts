/**
 * Adding `manifest_ref` lines to a root manifest without losing a
 * concurrent appender's.
 *
 * s3exchange reads the root, adds its references and writes the root back:
 * two appenders at once lose one's references. ferry instead:
 *
 * 1. **Compare-and-swap**, where the store offers it (S3 `If-Match` and
 *    `If-None-Match`, files, memory): read the root with its ETag, write the
 *    new root only if the ETag is unchanged (or only if no root exists yet),
 *    and start again on a conflict.
 * 2. **Pending references and a lock** where it does not (native Swift has
 *    no `If-Match`, and its `If-None-Match: *` lets concurrent creators all
 *    succeed; Swift's s3api answers 501 to conditional PUTs, detected on the
 *    first try): the appender first publishes its references as a
 *    uniquely named object under `<dir of root>/manifests/<root name>.pending/`
 *    (a one-line-per-ref manifest). From then on they are never lost: ferry's
 *    readers read the root *and* the pending objects. Then it takes the
 *    root's lock (`root_lock.ts`: a create-only lock object where the store
 *    decides `If-None-Match: *` atomically; a listing-based one elsewhere,
 *    native Swift included) and merges: its own references and every pending object
 *    listed go into the root (references already there are not added
 *    twice), the root is written, read back, and only the pending objects
 *    whose references the root is seen to hold are deleted.
 *    An appender that cannot get the lock waits and looks again: once its
 *    pending object is gone, another holder merged it. So the root ends up
 *    holding every reference, which is all s3exchange reads, and a crash at
 *    any step leaves either an orphan part (as s3exchange would) or a
 *    pending object that the next append merges.
 *
 * Either way the root keeps its existing lines (re-written in s3exchange's
 * form) and gains the new references at the end; a root with a bad line is
 * an error, never replaced.
 *
 * @module
 */
import {
  ConflictError,
  headOrUndefined,
  isBulkDeleter,
  isConditionalPutter,
  NotFoundError,
  NotSupportedError,
  type ObjectStore,
} from "../stores/mod.ts";
import {
  isManifestRef,
  manifestBytes,
  type ManifestRefEntry,
  parseEntries,
  serializeEntry,
} from "./entries.ts";
import { pendingRefsPrefix } from "./keys.ts";
import { getVerified, putBytesRetrying, putStream } from "./_io.ts";
import {
  type ExchangeOptions,
  type ResolvedExchangeOptions,
  resolveExchangeOptions,
} from "./options.ts";
import { pendingRefs } from "./manifest_reader.ts";
import { tryRootLock } from "./root_lock.ts";

/** How a root is updated: by compare-and-swap, by pending refs and a lock, or whichever the store allows. */
export type RootUpdate = "auto" | "cas" | "lock";

/** Options of {@linkcode appendRefs}. */
export interface AppendOptions extends ExchangeOptions {
  /** How the root is updated. @default "auto" (compare-and-swap where the store offers it) */
  rootUpdate?: RootUpdate | undefined;
  /** The lock's lease (`root_lock.ts`). @default 60000 */
  lockLeaseMs?: number | undefined;
  /** Give up after this long. @default 600000 */
  timeoutMs?: number | undefined;
}

/** What {@linkcode appendRefs} did. */
export interface AppendResult {
  /** `cas` or `lock`. */
  method: "cas" | "lock";
  /** Root writes tried (conflicts included) or lock rounds. */
  attempts: number;
}

/** Stores found to refuse `If-Match` puts (native Swift), and `If-None-Match` ones (Swift's s3api: 501). */
const refusesIfMatch = new WeakSet<ObjectStore>();
const refusesIfNoneMatch = new WeakSet<ObjectStore>();

const encoder = new TextEncoder();

/**
 * The root's lines in s3exchange's form, followed by the refs it lacks.
 * Yields nothing new (undefined) when every ref is already there.
 */
function rootWithRefs(
  store: ObjectStore,
  rootKey: string,
  exists: boolean,
  refs: ManifestRefEntry[],
  io: ResolvedExchangeOptions,
): ReadableStream<Uint8Array> {
  return ReadableStream.from((async function* () {
    const present = new Set<string>();
    let wrote = false;
    if (exists) {
      const { stream } = await getVerified(store, rootKey, {}, io);
      for await (const entry of parseEntries(stream, { source: rootKey })) {
        if (isManifestRef(entry)) present.add(entry.key);
        wrote = true;
        yield encoder.encode(serializeEntry(entry) + "\n");
      }
    }
    for (const ref of refs) {
      if (present.has(ref.key)) continue;
      present.add(ref.key);
      wrote = true;
      yield encoder.encode(serializeEntry(ref) + "\n");
    }
    if (!wrote) yield encoder.encode("\n");
  })());
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

const backoff = (attempt: number) =>
  Math.random() * Math.min(2000, 20 * 2 ** Math.min(attempt, 10));

/**
 * Adds `manifest_ref` entries for `refKeys` to the root manifest, creating
 * it when missing, so that concurrent appenders lose nothing (see the
 * module doc for how).
 *
 * @example Two appends
 * ```ts
 * import { appendRefs } from "./append.ts";
 * import { MemoryStore, getBytes } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * await appendRefs(store, "m/manifest.jsonl", ["m/manifests/part-1.jsonl"]);
 * const { method } = await appendRefs(store, "m/manifest.jsonl", ["m/manifests/part-2.jsonl"]);
 * equal(method, "cas");
 * equal(
 *   new TextDecoder().decode(await getBytes(store, "m/manifest.jsonl")),
 *   '{"kind":"manifest_ref","key":"m/manifests/part-1.jsonl"}\n{"kind":"manifest_ref","key":"m/manifests/part-2.jsonl"}\n',
 * );
 * ```
 *
 * @param store The store holding the root.
 * @param rootKey The root manifest's key.
 * @param refKeys The manifests to reference, in order.
 * @param options Update method, lease, timeout, budget, retries, signal.
 * @returns The method used and the attempts it took.
 * @throws {InvalidManifestError} When the existing root has a bad line.
 */
export async function appendRefs(
  store: ObjectStore,
  rootKey: string,
  refKeys: readonly string[],
  options: AppendOptions = {},
): Promise<AppendResult> {
  const io = resolveExchangeOptions(options);
  const refs: ManifestRefEntry[] = refKeys.map((key) => ({ kind: "manifest_ref", key }));
  const mode = options.rootUpdate ?? "auto";
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  if (
    mode !== "lock" && isConditionalPutter(store) && store.exclusiveCreate &&
    !refusesIfMatch.has(store)
  ) {
    try {
      return await compareAndSwap(store, rootKey, refs, io, deadline);
    } catch (error) {
      if (!(error instanceof NotSupportedError) || mode === "cas") throw error;
    }
  } else if (mode === "cas") {
    throw new TypeError(`Store ${store} cannot compare-and-swap "${rootKey}"`);
  }
  return await pendingAndLock(store, rootKey, refs, io, options.lockLeaseMs ?? 60_000, deadline);
}

async function compareAndSwap(
  store: ObjectStore,
  rootKey: string,
  refs: ManifestRefEntry[],
  io: ResolvedExchangeOptions,
  deadline: number,
): Promise<AppendResult> {
  for (let attempt = 1;; attempt++) {
    const current = await headOrUndefined(store, rootKey);
    const condition = current?.etag === undefined
      ? { ifNoneMatch: "*" as const }
      : { ifMatch: current.etag };
    if (current && current.etag === undefined) {
      throw new TypeError(
        `Store ${store} reports no ETag for "${rootKey}"; cannot compare-and-swap`,
      );
    }
    try {
      await putStream(
        store,
        rootKey,
        rootWithRefs(store, rootKey, current !== undefined, refs, io),
        { contentType: "application/x-ndjson", condition },
        io,
      );
      return { method: "cas", attempts: attempt };
    } catch (error) {
      if (error instanceof NotSupportedError) {
        refusesIfMatch.add(store);
        if ("ifNoneMatch" in condition) refusesIfNoneMatch.add(store);
        throw error;
      }
      // The root changed (or appeared, or vanished) since it was read: read it again.
      if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error;
      if (Date.now() > deadline) {
        throw new ConflictError(`Gave up appending to "${rootKey}" after ${attempt} conflicts`, {
          key: rootKey,
          cause: error,
        });
      }
      await sleep(backoff(attempt), io.signal);
    }
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\.(\d+)Z$/, "$1Z");
}

async function pendingAndLock(
  store: ObjectStore,
  rootKey: string,
  refs: ManifestRefEntry[],
  io: ResolvedExchangeOptions,
  leaseMs: number,
  deadline: number,
): Promise<AppendResult> {
  const pendingKey = `${pendingRefsPrefix(rootKey)}${stamp()}-${crypto.randomUUID()}.jsonl`;
  await putBytesRetrying(store, pendingKey, manifestBytes(refs), {
    contentType: "application/x-ndjson",
  }, io);
  for (let attempt = 1;; attempt++) {
    const lock = await tryRootLock(store, rootKey, { leaseMs, signal: io.signal });
    if (lock) {
      try {
        await mergePending(
          store,
          rootKey,
          { key: pendingKey, refs },
          io,
          () => lock.remainingMs() - leaseMs / 2,
        );
      } finally {
        await lock.release();
      }
    }
    if (!(await headOrUndefined(store, pendingKey))) return { method: "lock", attempts: attempt };
    if (Date.now() > deadline) {
      throw new ConflictError(
        `Gave up merging "${pendingKey}" into "${rootKey}" after ${attempt} rounds; ferry's readers see it, the next append merges it`,
        { key: rootKey },
      );
    }
    await sleep(backoff(attempt), io.signal);
  }
}

/**
 * Under the root's lock: writes the holder's own references and every
 * pending reference listed into the root, then deletes the pending objects
 * it merged. The holder's own are merged even when a lagging listing does
 * not show them yet, so an append always ends.
 */
async function mergePending(
  store: ObjectStore,
  rootKey: string,
  own: { key: string; refs: ManifestRefEntry[] },
  io: ResolvedExchangeOptions,
  remainingMs: () => number,
): Promise<void> {
  const listed = await pendingRefs(store, rootKey, io);
  const pending = [own, ...listed.filter((p) => p.key !== own.key)];
  const refs = pending.flatMap((p) => p.refs);
  // `remainingMs` keeps half the lease for the write: a slow holder leaves the merge to the next.
  if (remainingMs() < 0) return;
  const exists = (await headOrUndefined(store, rootKey)) !== undefined;
  if (remainingMs() < 0) return;
  const write = (condition?: { ifNoneMatch: "*" }) =>
    putStream(store, rootKey, rootWithRefs(store, rootKey, exists, refs, io), {
      contentType: "application/x-ndjson",
      condition,
    }, io);
  if (
    exists || !isConditionalPutter(store) || !store.exclusiveCreate ||
    refusesIfNoneMatch.has(store)
  ) {
    // Where no appender creates the root by compare-and-swap, only lock holders write it.
    await write();
  } else {
    // Created only if still absent: an appender creating the root by compare-and-swap
    // (a store with an exclusive If-None-Match but no If-Match) is not overwritten.
    try {
      await write({ ifNoneMatch: "*" });
    } catch (error) {
      if (error instanceof NotSupportedError) {
        refusesIfNoneMatch.add(store);
        await write();
      } else if (error instanceof ConflictError) {
        return; // the root appeared meanwhile: the next round merges into it
      } else throw error;
    }
  }
  // Delete only what the root is seen to hold: where the lock rests on a
  // listing, a write that raced ours may have replaced the root.
  const inRoot = new Set<string>();
  try {
    const { stream } = await getVerified(store, rootKey, {}, io);
    for await (const entry of parseEntries(stream, { source: rootKey })) {
      if (isManifestRef(entry)) inRoot.add(entry.key);
    }
  } catch (error) {
    // Not readable back just now (Swift may answer 404 while an overwrite lands): keep
    // every pending object; the next round reads the root again.
    if (error instanceof NotFoundError) return;
    throw error;
  }
  const keys = pending.filter((p) => p.refs.every((ref) => inRoot.has(ref.key))).map((p) => p.key);
  if (keys.length === 0) return;
  if (isBulkDeleter(store)) {
    const failed = await store.deleteMany(keys);
    if (failed.length > 0) throw failed[0]!.error;
  } else {
    for (const key of keys) await store.delete(key);
  }
}
