import { equal, throws } from "node:assert/strict";
import { formatSize, parseSize } from "./units.ts";

Deno.test("parseSize() accepts decimal and binary units in any case", () => {
  equal(parseSize("0"), 0);
  equal(parseSize("512"), 512);
  equal(parseSize("10B"), 10);
  equal(parseSize("1kb"), 1000);
  equal(parseSize("2 MB"), 2_000_000);
  equal(parseSize("1GB"), 1e9);
  equal(parseSize("1TB"), 1e12);
  equal(parseSize("1KiB"), 1024);
  equal(parseSize("8mib"), 8 * 2 ** 20);
  equal(parseSize("1.5GiB"), 1.5 * 2 ** 30);
  equal(parseSize("1TiB"), 2 ** 40);
});

Deno.test("parseSize() rejects what is not a size, naming the flag", () => {
  throws(() => parseSize("ten", "--chunk-size-bytes"), /Invalid --chunk-size-bytes "ten"/);
  throws(() => parseSize("-1MB"), SyntaxError);
  throws(() => parseSize("5 XB"), SyntaxError);
});

Deno.test("formatSize() prints binary units", () => {
  equal(formatSize(12), "12 B");
  equal(formatSize(1536), "1.5 KiB");
  equal(formatSize(3 * 2 ** 30), "3.0 GiB");
});
