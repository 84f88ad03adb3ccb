import { equal } from "node:assert/strict";
import { destinationOpenOptions } from "../pipeline/engine.ts";
import { MemoryStore } from "./memory.ts";
import { openLocation } from "./registry.ts";
import { putBufferBytesOf } from "./store.ts";
import { SwiftObjectStore } from "./swift/mod.ts";

Deno.test("destinationOpenOptions() and the drivers' putBufferBytes() size the destination's buffers", () => {
  const options = { chunkSizeBytes: 1 << 20, putMaxConcurrency: 3 };
  const open = destinationOpenOptions(options);
  equal(open.partSizeBytes, 1 << 20);
  // S3 raises parts to its 5 MiB minimum; a multipart upload holds 3 parts in flight + 1.
  const s3 = openLocation("s3://engine-test-bucket/k", { ...open, env: () => undefined }).store;
  equal(putBufferBytesOf(s3, 1 << 20), 0);
  // Each part in flight is held twice (the driver's copy for a resend, the HTTP client's).
  equal(putBufferBytesOf(s3, 100 << 20), 35 << 20);
  // Under a buffer limit it sends fewer parts at once.
  equal(putBufferBytesOf(s3, 100 << 20, 32 << 20), 25 << 20);
  // Swift streams a large body and its segments; it reads ahead a small or unsized one.
  const swift = new SwiftObjectStore({
    container: "c",
    auth: { storageUrl: "http://127.0.0.1:1/v1/AUTH_x", token: "t" },
    segmentSizeBytes: 10 << 20,
  });
  equal(putBufferBytesOf(swift, 100 << 20), 0);
  equal(putBufferBytesOf(swift, 3 << 20), 3 << 20);
  equal(putBufferBytesOf(swift, undefined), (8 << 20) + 1);
  // What a memory store keeps is its content, held by design, not a transient buffer.
  equal(putBufferBytesOf(new MemoryStore(), 123), 0);
  equal(putBufferBytesOf(openLocation("/tmp/x").store, 1 << 30), 0);
});
