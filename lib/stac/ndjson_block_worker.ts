/**
 * A worker that reads the shapes of NDJSON blocks (see
 * `ndjson_block_shapes.ts`): one message per block, `{ block, options }`,
 * answered in order with its `NdjsonBlockShapes`.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import {
  type NdjsonBlockOptions,
  type NdjsonBlockShapes,
  observeNdjsonBlock,
} from "./ndjson_block_shapes.ts";

self.onmessage = (event: MessageEvent<{ block: Uint8Array; options: NdjsonBlockOptions }>) => {
  const { block, options } = event.data;
  let result: NdjsonBlockShapes | { failure: string };
  try {
    result = observeNdjsonBlock(block, options);
  } catch (error) {
    result = { failure: error instanceof Error ? error.message : String(error) };
  }
  // Freed now, not whenever garbage collection gets to it.
  (block.buffer as ArrayBuffer).transfer(0);
  self.postMessage(result);
};
