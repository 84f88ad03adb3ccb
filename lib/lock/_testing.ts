/**
 * Test helpers for the lock package (not exported).
 *
 * @module
 */
import type { LockRow } from "./schema.ts";

/**
 * A lock row for asset `assetKey` of item `itemId` on S3 (`bucket`, key
 * `{itemId}/{assetKey}.tif`, 1 byte, no other facts), with `over` applied.
 */
export function lockRowFor(itemId: string, assetKey: string, over: Partial<LockRow> = {}): LockRow {
  return {
    item_id: itemId,
    asset_key: assetKey,
    store_type: "s3",
    store_container: "bucket",
    store_endpoint_url: null,
    key: `${itemId}/${assetKey}.tif`,
    size_bytes: 1,
    etag: null,
    last_modified: null,
    checksum: null,
    ...over,
  };
}
