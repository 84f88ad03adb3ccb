/**
 * A worker that reads the shapes of NDJSON blocks (see
 * `ndjson_block_shapes.ts`): one message per block, `{ block, options }`,
 * answered in order with `{ result, block }`: its `NdjsonBlockShapes` and the
 * block (moved back, to be read into again).
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

self.onmessage = (
  event: MessageEvent<{ block: Uint8Array<ArrayBuffer>; options: NdjsonBlockOptions }>,
) => {
  const { block, options } = event.data;
  let result: NdjsonBlockShapes | { failure: string };
  try {
    result = observeNdjsonBlock(block, options);
  } catch (error) {
    result = { failure: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage({ result, block }, [block.buffer]);
};
