import { deepEqual, equal, match, notEqual } from "node:assert/strict";
import { type CliBytesResult, runCliBytes, withTempDir } from "./_cli.ts";
import { dropNulls, fixtureItems, ITEM_FIXTURES } from "../lib/stac/_testing.ts";

const FIXTURES = new URL("./fixtures/stac/", import.meta.url).pathname;

const ferry = runCliBytes;

const text = (r: CliBytesResult) => r.text;
const ndjson = (r: CliBytesResult) =>
  text(r).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));

function expectFailure(r: CliBytesResult, pattern: RegExp) {
  notEqual(r.code, 0);
  equal(r.stdout.byteLength, 0, "no output");
  equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  match(r.stderr, pattern);
}

Deno.test("ferry items: from-json | to-parquet | from-parquet | to-ndjson gives back every fixture", async () => {
  await withTempDir(async (dir) => {
    for (const name of ITEM_FIXTURES) {
      const ipc = await ferry(["items", "from-json", FIXTURES + name]);
      equal(ipc.code, 0, ipc.stderr);
      const path = `${dir}/${name}.parquet`;
      const written = await ferry(["items", "to-parquet", path], ipc.stdout);
      equal(written.code, 0, written.stderr);
      const items = await fixtureItems(name);
      deepEqual(JSON.parse(text(written)), { path, rows: items.length });
      const read = await ferry(["items", "from-parquet", path]);
      const back = await ferry(["items", "to-ndjson"], read.stdout);
      equal(back.code, 0, back.stderr);
      deepEqual(dropNulls(ndjson(back)), dropNulls(items), name);
    }
  });
});

Deno.test("ferry items: from-ndjson filters, batches and writes NDJSON to a file", async () => {
  const items = [
    ...(await fixtureItems("io-lulc-pc.json")),
    ...(await fixtureItems("naip-pc.json")),
  ];
  const lines = items.map((i) => JSON.stringify(i)).join("\n\n") + "\n";
  const input = new TextEncoder().encode(lines);
  const all = await ferry(["items", "from-ndjson", "--batch-size", "3"], input);
  equal((await ferry(["items", "to-ndjson"], all.stdout)).stdout.byteLength > 0, true);
  const byCollection = await ferry(["items", "from-ndjson", "--collections", "naip"], input);
  equal(ndjson(await ferry(["items", "to-ndjson"], byCollection.stdout)).length, 4);
  const ids = [items[0]!.id, items[5]!.id];
  const byId = await ferry(
    ["items", "from-ndjson", "--item-ids", ids[0]!, "--item-ids", ids[1]!, "--batch-size=1"],
    input,
  );
  await withTempDir(async (dir) => {
    const out = `${dir}/out.ndjson`;
    equal((await ferry(["items", "to-ndjson", out], byId.stdout)).code, 0);
    deepEqual(
      (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l).id),
      ids,
    );
  });
  const byProvider = await ferry(["items", "from-ndjson", "--providers", "Esri"], input);
  const esri = items.filter((i) => JSON.stringify(i.properties.providers ?? []).includes('"Esri"'));
  equal(ndjson(await ferry(["items", "to-ndjson"], byProvider.stdout)).length, esri.length);
});

Deno.test("ferry items: a terminal stdout gets a preview of at most 20 rows", async () => {
  const template = (await fixtureItems("naip-pc.json"))[0]!;
  const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ ...template, id: `i${i}` }));
  const r = await ferry(
    ["items", "from-ndjson"],
    new TextEncoder().encode(lines.join("\n")),
    true,
  );
  equal(r.code, 0, r.stderr);
  const out = text(r).trimEnd().split("\n");
  equal(out.length, 2 + 20 + 1);
  match(out.at(-1)!, /^25 rows x \d+ columns \(showing first 20\)$/);
  match(out[0]!, /^stac_version/);
});

Deno.test("ferry items: bad input fails with one line naming the file and position", async () => {
  await withTempDir(async (dir) => {
    const write = async (name: string, content: string | Uint8Array) => {
      const path = `${dir}/${name}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      return path;
    };
    const good = JSON.parse(await Deno.readTextFile(FIXTURES + "simple-item.json"));
    const malformed = await write("bad.json", '{\n  "type": "Feature",\n  "id": \n}');
    expectFailure(
      await ferry(["items", "from-json", malformed]),
      new RegExp(`^ferry items from-json: ${malformed}:4: Invalid JSON`),
    );
    const collection = FIXTURES + "collection.json";
    expectFailure(
      await ferry(["items", "from-json", collection]),
      /collection\.json: Expected a STAC Item .* got type "Collection"$/m,
    );
    const broken = await write("broken.ndjson", `${JSON.stringify(good)}\n\n{"type":\n`);
    expectFailure(
      await ferry(["items", "from-ndjson", broken]),
      new RegExp(`${broken}:3: Invalid JSON`),
    );
    const noId = { ...good };
    delete noId.id;
    const noIdFile = await write(
      "noid.ndjson",
      `${JSON.stringify(good)}\n${JSON.stringify(noId)}\n`,
    );
    expectFailure(
      await ferry(["items", "from-ndjson", noIdFile]),
      new RegExp(`${noIdFile}:2: Item has no "id"$`, "m"),
    );
    const blob = await write(
      "blob.json",
      JSON.stringify([good, { ...good, id: "b", geometry: { type: "Circle", radius: 1 } }]),
    );
    expectFailure(
      await ferry(["items", "from-json", blob]),
      new RegExp(`${blob} row 2: Item "b": geometry has unknown type "Circle"$`, "m"),
    );
    const ipc = (await ferry(["items", "from-json", FIXTURES + "naip-pc.json"])).stdout;
    const parquet = `${dir}/ok.parquet`;
    await ferry(["items", "to-parquet", parquet], ipc);
    const bytes = await Deno.readFile(parquet);
    const truncated = await write("truncated.parquet", bytes.subarray(0, bytes.length - 50));
    expectFailure(
      await ferry(["items", "from-parquet", truncated]),
      new RegExp(`${truncated}: Not a Parquet file or truncated`),
    );
    const notParquet = await write("text.parquet", "this is not parquet at all\n");
    expectFailure(
      await ferry(["items", "from-parquet", notParquet]),
      new RegExp(`${notParquet}: Not a Parquet file`),
    );
  });
});

Deno.test("ferry items to-parquet: a broken input stream leaves no file behind", async () => {
  await withTempDir(async (dir) => {
    const ipc = (await ferry(["items", "from-json", FIXTURES + "naip-pc.json"])).stdout;
    const path = `${dir}/items.parquet`;
    const cut = await ferry(["items", "to-parquet", path], ipc.subarray(0, ipc.length - 200));
    notEqual(cut.code, 0);
    match(cut.stderr, /^ferry items to-parquet: stdin/);
    const garbage = await ferry(["items", "to-parquet", path], new TextEncoder().encode("hello\n"));
    notEqual(garbage.code, 0);
    deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("ferry items to-parquet and ferry build: a stream cut after several batches fails, nothing written", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("naip-pc.json");
    const lines = Array.from({ length: 5 }, () => items).flat()
      .map((item, i) => JSON.stringify({ ...item, id: `i${i}` })).join("\n");
    await Deno.writeTextFile(`${dir}/in.ndjson`, lines);
    const ipc = (await ferry(["items", "from-ndjson", `${dir}/in.ndjson`, "--batch-size", "3"]))
      .stdout;
    await Deno.remove(`${dir}/in.ndjson`);
    const cut = ipc.subarray(0, ipc.length - 300);
    const parquet = await ferry(["items", "to-parquet", `${dir}/items.parquet`], cut);
    expectFailure(parquet, /^ferry items to-parquet: stdin row 19: Broken Arrow IPC stream/);
    const build = await ferry(["build", `${dir}/pkg`, "--no-probe-metadata"], cut);
    expectFailure(build, /^ferry build: stdin row 19: Broken Arrow IPC stream/);
    deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("ferry items: --batch-size must be a positive integer", async () => {
  const r = await ferry(
    ["items", "from-ndjson", "--batch-size", "0"],
    new TextEncoder().encode(""),
  );
  equal(r.code, 2);
  match(r.stderr, /Invalid --batch-size "0"/);
});
