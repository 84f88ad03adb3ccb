/**
 * A lock on one root manifest for stores without compare-and-swap of an
 * existing object (native Swift, S3 servers that refuse conditional PUTs).
 *
 * **Create-only put**, where the store decides one atomically (S3 with
 * conditional writes, files, memory): the lock is one object,
 * `<dir of root>/manifests/<root name>.lock/held`, and whoever creates it
 * holds it; the server decides, so two contenders can never both win. A
 * create retried after a lost answer finds the object holding its own
 * token and holds the lock. A holder that crashed leaves it behind: once it
 * is older than twice the lease (by its Last-Modified against this
 * process's clock, so clocks may be a lease apart) it is deleted and the
 * next round takes it.
 *
 * **Listing**, where the store has no create-only put (Swift's s3api
 * answers 501) or one that is not exclusive (native Swift checks
 * `If-None-Match: *` when a PUT starts: concurrent creators may all
 * succeed): built only from puts, deletes and a listing. A contender writes a uniquely named candidate object
 * under `<dir of root>/manifests/<root name>.lock/`, then lists that prefix.
 * It holds the lock when no other live candidate is listed; otherwise it
 * deletes its candidate and tries again later. Two contenders cannot both
 * win: each writes before it lists, so whichever lists second sees the
 * other's candidate (this needs a listing that shows every completed put,
 * as S3 and a healthy Swift give). Both may lose and retry, with jittered
 * back-off. A candidate is stale, and ignored, when it was written more than
 * the lease before the contender's own (both times from the server, so
 * clocks of clients do not matter): a crashed holder blocks others for one
 * lease at most. A holder must finish within the lease; it checks its own
 * time before it writes.
 *
 * @module
 */
import {
  type ConditionalPutter,
  ConflictError,
  headOrUndefined,
  isConditionalPutter,
  NotFoundError,
  NotSupportedError,
  type ObjectStore,
  putBytes,
  streamOf,
  withRetry,
} from "../stores/mod.ts";
import { rootLockPrefix } from "./keys.ts";

/** A held lock. */
export interface RootLock {
  /** The candidate object that holds it. */
  readonly key: string;
  /** Milliseconds left of the lease (by this process's clock). */
  remainingMs(): number;
  /** Deletes the candidate. */
  release(): Promise<void>;
}

/** Options of {@linkcode tryRootLock}. */
export interface RootLockOptions {
  /** How long a holder may keep the lock. @default 60000 */
  leaseMs?: number | undefined;
  /** Cancels the attempt. */
  signal?: AbortSignal | undefined;
}

/**
 * One attempt to take the lock of `rootKey`.
 *
 * @example Two attempts, one winner
 * ```ts
 * import { tryRootLock } from "./root_lock.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { equal, ok } from "node:assert/strict";
 * const store = new MemoryStore();
 * const first = await tryRootLock(store, "m/manifest.jsonl");
 * ok(first);
 * equal(await tryRootLock(store, "m/manifest.jsonl"), undefined);
 * await first.release();
 * ok(await tryRootLock(store, "m/manifest.jsonl"));
 * ```
 *
 * @param store The store.
 * @param rootKey The root manifest's key.
 * @param options Lease and signal.
 * @returns The lock, or undefined when another contender holds or wants it.
 */
export async function tryRootLock(
  store: ObjectStore,
  rootKey: string,
  options: RootLockOptions = {},
): Promise<RootLock | undefined> {
  if (isConditionalPutter(store) && store.exclusiveCreate && !refusesCreateOnly.has(store)) {
    try {
      return await tryCreateOnlyLock(store, rootKey, options);
    } catch (error) {
      if (!(error instanceof NotSupportedError)) throw error;
      refusesCreateOnly.add(store);
    }
  }
  return await tryListingLock(store, rootKey, options);
}

/** Stores found to answer a create-only put with "not supported" (Swift's s3api). */
const refusesCreateOnly = new WeakSet<ObjectStore>();

async function tryCreateOnlyLock(
  store: ObjectStore & ConditionalPutter,
  rootKey: string,
  options: RootLockOptions,
): Promise<RootLock | undefined> {
  const leaseMs = options.leaseMs ?? 60_000;
  const key = `${rootLockPrefix(rootKey)}held`;
  const started = performance.now();
  const holder = crypto.randomUUID();
  const body = new TextEncoder().encode(JSON.stringify({ lease_ms: leaseMs, holder }) + "\n");
  const lock: RootLock = {
    key,
    remainingMs: () => leaseMs - (performance.now() - started),
    release: () => withRetry(() => store.delete(key), { signal: options.signal }),
  };
  try {
    await withRetry(
      () =>
        store.putIf(key, streamOf(body), { ifNoneMatch: "*" }, {
          size: body.byteLength,
          contentType: "application/json",
          signal: options.signal,
        }),
      { signal: options.signal },
    );
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // A retry of a create whose answer was lost conflicts with itself.
    if ((await holderOf(store, key, options.signal)) === holder) return lock;
    const held = await headOrUndefined(store, key);
    const age = held?.lastModified ? Date.now() - held.lastModified.getTime() : 0;
    if (age > 2 * leaseMs) await store.delete(key).catch(() => {});
    return undefined;
  }
  return lock;
}

/** The `holder` token written into a create-only lock, if it can be read. */
async function holderOf(
  store: ObjectStore,
  key: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    const text = await new Response(await store.get(key, { signal })).text();
    const holder = (JSON.parse(text) as { holder?: unknown }).holder;
    return typeof holder === "string" ? holder : undefined;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

async function tryListingLock(
  store: ObjectStore,
  rootKey: string,
  options: RootLockOptions,
): Promise<RootLock | undefined> {
  const leaseMs = options.leaseMs ?? 60_000;
  const prefix = rootLockPrefix(rootKey);
  const key = `${prefix}${crypto.randomUUID()}`;
  const started = performance.now();
  const body = new TextEncoder().encode(JSON.stringify({ lease_ms: leaseMs }) + "\n");
  await withRetry(() => putBytes(store, key, body, { contentType: "application/json" }), {
    signal: options.signal,
  });
  const release = () => withRetry(() => store.delete(key), { signal: options.signal });
  try {
    const listed: { key: string; at: number | undefined }[] = [];
    for await (const item of store.list(prefix, { signal: options.signal })) {
      if (item.kind === "object") listed.push({ key: item.key, at: item.lastModified?.getTime() });
    }
    const mine = listed.find((item) => item.key === key);
    const live = listed.filter((item) =>
      item.key !== key &&
      !(mine?.at !== undefined && item.at !== undefined && mine.at - item.at > leaseMs)
    );
    if (mine && live.length === 0) {
      return {
        key,
        remainingMs: () => leaseMs - (performance.now() - started),
        release,
      };
    }
  } catch (error) {
    await release().catch(() => {});
    throw error;
  }
  await release();
  return undefined;
}
