import { deepEqual, equal, rejects } from "node:assert/strict";
import type * as arrow from "apache-arrow";
import { ndjsonItemsEncoder, type NdjsonSchemaOptions } from "./ndjson_schema.ts";
import { fixtureItems, ITEM_FIXTURES } from "./_testing.ts";
import type { StacItem } from "./item.ts";

const schemaText = (schema: arrow.Schema) =>
  schema.fields.map((f) => `${f.name}: ${f.type} ${JSON.stringify([...f.metadata])}`);

async function schemaOf(text: string, options: NdjsonSchemaOptions): Promise<string[]> {
  return schemaText((await ndjsonItemsEncoder(new Blob([text]).stream(), options)).schema);
}

async function mixedLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const name of ITEM_FIXTURES) {
    for (const item of await fixtureItems(name)) lines.push(JSON.stringify(item));
  }
  const late = (await fixtureItems("naip-pc.json"))[0]!;
  const odd: StacItem = {
    ...late,
    id: "odd",
    properties: { ...late.properties, gsd: "text", "late:key": { k: [1, 2.5] } },
    assets: { ...late.assets, extra: { href: "s3://b/x" } },
  };
  return [...lines, "", JSON.stringify(odd), ...lines.slice(0, 3)];
}

Deno.test("ndjsonItemsEncoder() gives the schema of one read when a worker reads some of the blocks", async () => {
  const text = (await mixedLines()).join("\n");
  const whole = await schemaOf(text, { blockSize: 1 << 30 });
  equal(whole.some((f) => f.startsWith("late:key: ")), true);
  for (const blockSize of [1, 1000, 20000]) {
    deepEqual(await schemaOf(text, { blockSize }), whole, `${blockSize}`);
    deepEqual(await schemaOf(text, { blockSize, worker: false }), whole, `${blockSize} here`);
  }
  deepEqual(await schemaOf(text + "\n", { blockSize: 5000 }), whole);
});

Deno.test("ndjsonItemsEncoder() names the first bad line, whichever thread read it", async () => {
  const lines = await mixedLines();
  const bad = [...lines];
  bad[7] = '{"type":"Feature",';
  bad[30] = "[]";
  const text = bad.join("\n");
  for (const blockSize of [1, 3000, 1 << 30]) {
    await rejects(
      ndjsonItemsEncoder(new Blob([text]).stream(), { source: "x.ndjson", blockSize }),
      { name: "StacInputError", message: /^x\.ndjson:8: Invalid JSON/ },
    );
  }
  const onlyLate = [...lines];
  onlyLate[30] = "[]";
  await rejects(
    ndjsonItemsEncoder(new Blob([onlyLate.join("\n")]).stream(), { source: "x", blockSize: 1 }),
    { message: "x:31: Item is a JSON array, not an object (one Item per line or array element)" },
  );
});
