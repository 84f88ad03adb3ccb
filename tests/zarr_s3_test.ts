/**
 * ZarrStore over a live S3 server (Swift's s3api on the test machine):
 * zarrita round trip and the ported zarr-python store cases.
 */
import { equal } from "node:assert/strict";
import { S3Store } from "../lib/stores/s3/mod.ts";
import { ZarrStore } from "../lib/zarr/store.ts";
import { liveS3, uniqueName } from "./_live.ts";
import { runZarrStoreCases, zarritaRoundTrip } from "./zarr_store_cases.ts";

const s3 = liveS3(uniqueName("ferry-zarr-s3"));

if (s3) {
  const objects = new S3Store(s3);

  runZarrStoreCases({
    name: "ZarrStore over S3Store",
    sanitize: false,
    make(options) {
      const store = new ZarrStore(objects, { prefix: uniqueName("case"), ...options });
      return Promise.resolve({ store, objects, prefix: store.prefix });
    },
  });

  Deno.test({
    name: "ZarrStore over S3Store: zarrita round trip, listed and cleared",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const store = new ZarrStore(objects, { prefix: uniqueName("big") });
      await zarritaRoundTrip(store, { shape: [20, 28], chunkShape: [4, 4] });
      const chunks = await Array.fromAsync(store.listPrefix("temps/c/"));
      equal(chunks.length, 35);
      equal((await store.listDirEntries("temps/c")).prefixes.length, 5);
      await store.clear();
      equal(await store.isEmpty(), true);
    },
  });
}
