import { deepEqual, equal } from "node:assert/strict";
import { runCliBytes as ferry } from "./_cli.ts";

const item = (id: string, collection: string, provider: string) => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  collection,
  geometry: null,
  properties: { datetime: "2020-01-01T00:00:00Z", providers: [{ name: provider }] },
  links: [],
  assets: {},
});

const INPUT = new TextEncoder().encode(
  [
    item("a,b", "c,1", "P,Q"),
    item("a", "c", "P"),
    item("b", "1", "Q"),
    item("z", "zz", "Z"),
  ].map((i) => JSON.stringify(i)).join("\n") + "\n",
);

async function idsOf(flags: string[]): Promise<string[]> {
  const ipc = await ferry(["items", "from-ndjson", ...flags], INPUT);
  equal(ipc.code, 0, ipc.stderr);
  const out = await ferry(["items", "to-ndjson"], ipc.stdout);
  equal(out.code, 0, out.stderr);
  return out.text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).id);
}

Deno.test("ferry items: a filter value matches as given and as its comma-separated parts", async () => {
  deepEqual(await idsOf(["--item-ids", "a,b"]), ["a,b", "a", "b"]);
  deepEqual(await idsOf(["--item-ids", "b"]), ["b"]);
  deepEqual(await idsOf(["--item-ids", "a,"]), ["a"]);
  deepEqual(await idsOf(["--collections", "c,1"]), ["a,b", "a", "b"]);
  deepEqual(await idsOf(["--collections", "1"]), ["b"]);
  deepEqual(await idsOf(["--providers", "P,Q"]), ["a,b", "a", "b"]);
  deepEqual(await idsOf(["--providers", "Q"]), ["b"]);
  deepEqual(await idsOf(["--item-ids", "z", "--item-ids", "a,b", "--collections", "zz"]), ["z"]);
});
