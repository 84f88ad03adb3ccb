/**
 * Swift bulk delete at scale, against the live Swift on :8080 (its own file:
 * writing 1200 objects takes this single-node Swift ~15 s).
 */
import { deepEqual, equal } from "node:assert/strict";
import { liveEnv, uniqueName } from "../../../tests/_live.ts";
import { listAll, putBytes } from "../ext.ts";
import { SwiftObjectStore } from "./mod.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"], "Swift (:8080)");
const tempAuth = env ? { authUrl: env.ST_AUTH, user: env.ST_USER, key: env.ST_KEY } : undefined;
const container = uniqueName("ferry-swift-bulk");
const options = { sanitizeOps: false, sanitizeResources: false, ignore: !env };

Deno.test({
  name: "SwiftObjectStore.deleteMany() bulk-deletes 1200 keys",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth! });
    try {
      const keys = Array.from(
        { length: 1200 },
        (_, i) => `bulk/${String(i).padStart(4, "0")} ü%.txt`,
      );
      await putBytes(store, keys[0]!, streamBytes("first")); // creates the container
      // seeded with plain PUTs, 64 at a time (Swift here writes one object at a time per request)
      const queue = [...keys];
      await Promise.all(Array.from({ length: 64 }, async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
          const r = await store.client.request({ method: "PUT", container, key: k, body: "x" });
          await r.body?.cancel();
          equal(r.status, 201);
        }
      }));
      equal((await listAll(store, "bulk/")).length, 1200);
      const failed = await store.deleteMany([...keys, "bulk/never-existed"]);
      deepEqual(failed, []);
      deepEqual(await listAll(store, "bulk/"), []);
    } finally {
      const r = await store.client.request({ method: "DELETE", container });
      await r.body?.cancel();
    }
  },
});

function streamBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
