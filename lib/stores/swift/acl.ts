/**
 * Container read ACLs (`X-Container-Read`): reading them, and making a
 * container public (`.r:*,.rlistings` added) or private (those two removed)
 * while keeping every other grant.
 *
 * @module
 */
import { NotFoundError } from "../errors.ts";
import { classify, type SwiftClient } from "./client.ts";

/** The read ACL that lets anyone read objects and list the container. */
export const PUBLIC_READ_ACL = ".r:*,.rlistings";

/**
 * Sets a container's read ACL (`X-Container-Read`), or removes it entirely
 * (`X-Remove-Container-Read`) when `acl` is null.
 *
 * @example Making a container public
 * ```ts ignore
 * import { PUBLIC_READ_ACL, setContainerRead, SwiftClient, swiftSession } from "./mod.ts";
 * const client = new SwiftClient(swiftSession({ storageUrl: "http://127.0.0.1:8080/v1/AUTH_test", token: "AUTH_tk..." }));
 * await setContainerRead(client, "public-data", PUBLIC_READ_ACL);
 * ```
 *
 * @param client A client of the account.
 * @param container The container.
 * @param acl The ACL, or null to remove it.
 * @param options Cancellation.
 * @throws {NotFoundError} When the container does not exist.
 */
export async function setContainerRead(
  client: SwiftClient,
  container: string,
  acl: string | null,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  if (!container || container.includes("/")) {
    throw new TypeError(`Invalid Swift container name "${container}"`);
  }
  const response = await client.request({
    method: "POST",
    container,
    headers: acl === null ? { "X-Remove-Container-Read": "x" } : { "X-Container-Read": acl },
    signal: options.signal,
  });
  if (response.status === 404) {
    await response.body?.cancel();
    throw new NotFoundError(`Swift container "${container}" does not exist`);
  }
  if (!response.ok) throw await classify(response, { operation: "POST", container });
  await response.body?.cancel();
}

/** Swift's spellings of the referrer grant (`.r:*` is what it stores). */
const REFERRER = /^\.(?:r|ref|referer|referrer):/;

/** The grants of a read ACL: its comma-separated entries, trimmed, empty ones dropped. */
function grantsOf(acl: string | null | undefined): string[] {
  return (acl ?? "").split(",").map((g) => g.trim()).filter((g) => g !== "");
}

/** `.r:*` and its spellings (`.referrer:*`, …). */
function isAnyReferrer(grant: string): boolean {
  return REFERRER.test(grant) && grant.slice(grant.indexOf(":") + 1) === "*";
}

/**
 * Whether a read ACL lets anyone read the container's objects (it grants
 * `.r:*`), as zarr-swiftstore's `is_public` tells.
 *
 * @example
 * ```ts
 * import { isPublicReadAcl } from "./acl.ts";
 * import { equal } from "node:assert/strict";
 * equal(isPublicReadAcl("test:reader, .r:*"), true);
 * equal(isPublicReadAcl(".r:.example.com,.rlistings"), false);
 * equal(isPublicReadAcl(null), false);
 * ```
 *
 * @param acl The `X-Container-Read` value, or null.
 * @returns True when it grants `.r:*`.
 */
export function isPublicReadAcl(acl: string | null | undefined): boolean {
  return grantsOf(acl).some(isAnyReferrer);
}

/**
 * A read ACL with `.r:*` and `.rlistings` added, its other grants kept in
 * their order.
 *
 * @example
 * ```ts
 * import { withPublicRead } from "./acl.ts";
 * import { equal } from "node:assert/strict";
 * equal(withPublicRead(null), ".r:*,.rlistings");
 * equal(withPublicRead("test:reader"), "test:reader,.r:*,.rlistings");
 * equal(withPublicRead(".rlistings,test:reader"), ".rlistings,test:reader,.r:*");
 * ```
 *
 * @param acl The current `X-Container-Read`, or null.
 * @returns The new ACL.
 */
export function withPublicRead(acl: string | null | undefined): string {
  const grants = grantsOf(acl);
  if (!grants.some(isAnyReferrer)) grants.push(".r:*");
  if (!grants.includes(".rlistings")) grants.push(".rlistings");
  return grants.join(",");
}

/**
 * A read ACL without `.r:*` (in any spelling) and `.rlistings`, its other
 * grants kept; null when none is left.
 *
 * @example
 * ```ts
 * import { withoutPublicRead } from "./acl.ts";
 * import { equal } from "node:assert/strict";
 * equal(withoutPublicRead(".r:*,.rlistings"), null);
 * equal(withoutPublicRead("test:reader,.r:*,.rlistings,.r:.example.com"), "test:reader,.r:.example.com");
 * ```
 *
 * @param acl The current `X-Container-Read`, or null.
 * @returns The new ACL, or null for none.
 */
export function withoutPublicRead(acl: string | null | undefined): string | null {
  const grants = grantsOf(acl).filter((g) => !isAnyReferrer(g) && g !== ".rlistings");
  return grants.length === 0 ? null : grants.join(",");
}

/**
 * A container's read ACL (`X-Container-Read`), or null when it has none.
 *
 * @example Reading a container's ACL
 * ```ts ignore
 * import { getContainerRead, SwiftClient, swiftSession } from "./mod.ts";
 * const client = new SwiftClient(swiftSession({ storageUrl: "http://127.0.0.1:8080/v1/AUTH_test", token: "AUTH_tk..." }));
 * console.log(await getContainerRead(client, "public-data")); // ".r:*,.rlistings"
 * ```
 *
 * @param client A client of the account.
 * @param container The container.
 * @param options Cancellation.
 * @returns The ACL, or null.
 * @throws {NotFoundError} When the container does not exist.
 */
export async function getContainerRead(
  client: SwiftClient,
  container: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<string | null> {
  if (!container || container.includes("/")) {
    throw new TypeError(`Invalid Swift container name "${container}"`);
  }
  const response = await client.request({ method: "HEAD", container, signal: options.signal });
  await response.body?.cancel();
  if (response.status === 404) {
    throw new NotFoundError(`Swift container "${container}" does not exist`);
  }
  if (!response.ok) throw await classify(response, { operation: "HEAD", container });
  const acl = response.headers.get("x-container-read");
  return acl === null || acl.trim() === "" ? null : acl;
}

/**
 * Makes a container public or private by adding or removing only `.r:*`
 * and `.rlistings` in its read ACL; other grants (users, referrer domains)
 * are kept. When no grant is left the ACL is removed.
 *
 * @example Making a container public, keeping a reader's grant
 * ```ts ignore
 * import { setContainerPublic, SwiftClient, swiftSession } from "./mod.ts";
 * const client = new SwiftClient(swiftSession({ storageUrl: "http://127.0.0.1:8080/v1/AUTH_test", token: "AUTH_tk..." }));
 * await setContainerPublic(client, "public-data", true); // "test:reader,.r:*,.rlistings"
 * ```
 *
 * @param client A client of the account.
 * @param container The container.
 * @param isPublic True to let anyone read and list, false to stop that.
 * @param options Cancellation.
 * @returns The new read ACL, or null when none is left.
 * @throws {NotFoundError} When the container does not exist.
 */
export async function setContainerPublic(
  client: SwiftClient,
  container: string,
  isPublic: boolean,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<string | null> {
  const current = await getContainerRead(client, container, options);
  const next = isPublic ? withPublicRead(current) : withoutPublicRead(current);
  if (next !== current) await setContainerRead(client, container, next, options);
  return next;
}
