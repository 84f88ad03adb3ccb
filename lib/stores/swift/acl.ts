/**
 * Container read ACLs: public (`.r:*,.rlistings`) and private.
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
