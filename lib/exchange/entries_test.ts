import { deepEqual, equal, throws } from "node:assert/strict";
import { InvalidManifestError } from "./errors.ts";
import { parseEntries, parseEntry, pythonNumberText, serializeEntry } from "./entries.ts";

/** What Python 3.11's `json.dumps(json.loads(text))` printed for each number. */
const PYTHON: Record<string, string> = {
  "1.0": "1.0",
  "1e16": "1e+16",
  "1e15": "1000000000000000.0",
  "1.5e-05": "1.5e-05",
  "0.0001": "0.0001",
  "123.456": "123.456",
  "-0.0": "-0.0",
  "-0": "0",
  "1E400": "Infinity",
  "12345678901234567890": "12345678901234567890",
  "0.1": "0.1",
  "2.5e-7": "2.5e-07",
  "100000.0": "100000.0",
  "1e5": "100000.0",
  "3.141592653589793": "3.141592653589793",
  "1.7976931348623157e308": "1.7976931348623157e+308",
  "5e-324": "5e-324",
  "123456789012345678.0": "1.2345678901234568e+17",
};

Deno.test("pythonNumberText writes numbers as Python's json.dumps does", () => {
  for (const [source, python] of Object.entries(PYTHON)) {
    equal(pythonNumberText(source), python, source);
  }
});

Deno.test("serializeEntry keeps field order, unknown fields and Python's escaping", () => {
  const line = String
    .raw`{ "kind": "file", "key": "a/\u00fc b", "zz": {"b": 1, "a": [1.0, null, true]}, "id": "x\u007f\ud83d\ude00\n" }`;
  equal(
    serializeEntry(parseEntry(line)),
    String
      .raw`{"kind":"file","key":"a/\u00fc b","zz":{"b":1,"a":[1.0,null,true]},"id":"x\u007f\ud83d\ude00\n"}`,
  );
  // An index-like key would be moved first by JavaScript: the line is kept as written.
  equal(
    serializeEntry(parseEntry('{"kind":"file","key":"k","meta":{"b":1,"10":2}}')),
    '{"kind":"file","key":"k","meta":{"b":1,"10":2}}',
  );
});

Deno.test("parseEntry names the source and line of each bad line", () => {
  const cases: [string, RegExp][] = [
    ["not json", /^Invalid manifest "m" line 4: invalid JSON/],
    ["[1]", /line 4: expected a JSON object$/],
    ['{"key":"a"}', /line 4: missing "kind"$/],
    ['{"kind":"dir"}', /line 4: unknown entry kind "dir"$/],
    ['{"kind":"file"}', /line 4: missing "key" in a file entry$/],
    ['{"kind":"manifest_ref","key":""}', /line 4: "key" must be a non-empty string$/],
  ];
  for (const [line, message] of cases) {
    throws(
      () => parseEntry(line, { source: "m", line: 4 }),
      (e: Error) => e instanceof InvalidManifestError && message.test(e.message),
    );
  }
});

Deno.test("parseEntries skips blank lines, counts them, and gives old shard manifests virtual keys", async () => {
  const text = '\n{"kind":"file","member_path":"x.wav"}\r\n\n';
  const entries = await Array.fromAsync(
    parseEntries(new Blob([text]).stream(), { archiveKey: "s.tar" }),
  );
  deepEqual(entries, [{ kind: "file", member_path: "x.wav", key: "s.tar#x.wav" }]);
  const bad = new Blob(["\n\n\xff\n"]).stream();
  await Array.fromAsync(parseEntries(bad, { source: "m" })).then(
    () => {
      throw new Error("no error");
    },
    (e) => equal(e.message.startsWith('Invalid manifest "m" line 3'), true),
  );
});
