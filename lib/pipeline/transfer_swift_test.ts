import { createHash } from "node:crypto";
import { equal } from "node:assert/strict";
import { liveEnv, uniqueName } from "../../tests/_live.ts";
import { MemoryStore } from "../stores/memory.ts";
import { headOrUndefined, putBytes } from "../stores/ext.ts";
import { SwiftObjectStore } from "../stores/swift/mod.ts";
import { MemoryBudget } from "./memory_budget.ts";
import { transferObject } from "./transfer.ts";
import { CountingStore } from "./_testing.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"] as const, "Swift");

Deno.test({
  name: "swift: transferObject() copies, skips by ETag, and writes nothing on a mismatch",
  ignore: env === undefined,
  async fn() {
    const swift = new SwiftObjectStore({
      container: uniqueName("ferry-pipeline"),
      auth: { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY },
    });
    const destination = new CountingStore(swift);
    const source = new MemoryStore();
    const bytes = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 11) & 0xff);
    const sha = createHash("sha256").update(bytes).digest("hex");
    await putBytes(source, "a", bytes);
    const budget = new MemoryBudget(4 * 1024 * 1024);
    const task = {
      source: { store: source, key: "a" },
      destination: { store: destination, key: "x/a" },
    };
    const first = await transferObject(task, { budget, chunkSizeBytes: 1024 * 1024 });
    equal(first.status, "copied", String(first.error));
    equal(first.checksum, "1220" + sha);
    equal(first.destination?.etag, first.md5);
    const gets = destination.calls.get;
    const again = await transferObject(task, { budget, chunkSizeBytes: 1024 * 1024 });
    equal(again.status, "skipped");
    equal(destination.calls.get, gets); // decided by the MD5 ETag, no read
    const bad = await transferObject(
      {
        ...task,
        destination: { store: destination, key: "x/bad" },
        expected: { sha256: "0".repeat(64) },
      },
      { budget, chunkSizeBytes: 1024 * 1024 },
    );
    equal(bad.status, "failed");
    equal(await headOrUndefined(swift, "x/bad"), undefined);
    equal(budget.inUseBytes, 0);
    await swift.delete("x/a");
  },
});
