/**
 * zarr-swiftstore's container utilities for a {@linkcode SwiftStore}:
 * {@linkcode isPublic} reads the container's read ACL, {@linkcode setPublic}
 * and {@linkcode togglePublic} add or remove only `.r:*,.rlistings` (other
 * grants stay).
 *
 * @module
 */
import type { ObjectStore } from "../stores/store.ts";
import {
  getContainerRead,
  isPublicReadAcl,
  setContainerPublic,
  type SwiftClient,
  SwiftObjectStore,
} from "../stores/swift/mod.ts";
import type { SwiftStore } from "./swift_store.ts";

/** The Swift client under a store's wrappers (each wrapper keeps its `inner`). */
function clientOf(store: SwiftStore): SwiftClient {
  let inner: ObjectStore | undefined = store.store;
  for (let depth = 0; inner && depth < 16; depth++) {
    if (inner instanceof SwiftObjectStore) return inner.client;
    inner = (inner as { inner?: ObjectStore }).inner;
  }
  throw new TypeError(`${store} is not backed by a Swift container`);
}

/**
 * Whether anyone may read the store's container (its read ACL grants
 * `.r:*`), as zarr-swiftstore's `is_public`.
 *
 * @example
 * ```ts ignore
 * import { isPublic, SwiftStore } from "./mod.ts";
 * const store = await SwiftStore.open({ container: "climate" });
 * console.log(await isPublic(store)); // false
 * ```
 *
 * @param store The store.
 * @returns True when the container is public.
 * @throws {NotFoundError} When the container does not exist.
 */
export async function isPublic(store: SwiftStore): Promise<boolean> {
  return isPublicReadAcl(await getContainerRead(clientOf(store), store.container));
}

/**
 * Makes the store's container public (`.r:*,.rlistings` added to its read
 * ACL) or private (those two removed); other grants stay.
 *
 * @example
 * ```ts ignore
 * import { setPublic, SwiftStore } from "./mod.ts";
 * const store = await SwiftStore.open({ container: "climate" });
 * await setPublic(store, true); // ".r:*,.rlistings"
 * ```
 *
 * @param store The store.
 * @param value True for public, false for private.
 * @returns The container's new read ACL, or null when none is left.
 * @throws {NotFoundError} When the container does not exist.
 * @throws {TypeError} For a read-only store.
 */
export function setPublic(store: SwiftStore, value: boolean): Promise<string | null> {
  if (store.readOnly) {
    return Promise.reject(new TypeError(`Cannot change the read ACL of ${store}: it is read-only`));
  }
  return setContainerPublic(clientOf(store), store.container, value);
}

/**
 * Makes a public container private and a private one public, as
 * zarr-swiftstore's `toggle_public` (without dropping other grants).
 *
 * @example
 * ```ts ignore
 * import { isPublic, SwiftStore, togglePublic } from "./mod.ts";
 * const store = await SwiftStore.open({ container: "climate" });
 * await togglePublic(store); // true
 * ```
 *
 * @param store The store.
 * @returns Whether the container is public now.
 * @throws {NotFoundError} When the container does not exist.
 * @throws {TypeError} For a read-only store.
 */
export async function togglePublic(store: SwiftStore): Promise<boolean> {
  const next = !(await isPublic(store));
  await setPublic(store, next);
  return next;
}
