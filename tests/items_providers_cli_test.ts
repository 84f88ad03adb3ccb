import { deepEqual, equal } from "node:assert/strict";
import { runCliBytes as ferry, withTempDir } from "./_cli.ts";

const item = (id: string, properties: Record<string, unknown>) => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  geometry: null,
  properties: { datetime: "2020-01-01T00:00:00Z", ...properties },
  links: [],
  assets: {},
});

const ITEMS = [
  item("object", { providers: [{ name: "Esri", roles: ["host"] }] }),
  item("string", { providers: ["Maxar"] }),
  item("provider", { provider: "USGS" }),
  item("oam", { "oam:producer_name": "Jane" }),
  item("none", { providers: [{ roles: ["host"] }], provider: "" }),
];

async function idsOf(ipc: Uint8Array): Promise<string[]> {
  const out = await ferry(["items", "to-ndjson"], ipc);
  equal(out.code, 0, out.stderr);
  return out.text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).id);
}

Deno.test("ferry items from-*: --providers matches providers[].name, plain providers entries, provider and oam:producer_name", async () => {
  const ndjson = new TextEncoder().encode(ITEMS.map((i) => JSON.stringify(i)).join("\n") + "\n");
  const json = new TextEncoder().encode(
    JSON.stringify({ type: "FeatureCollection", features: ITEMS }),
  );
  await withTempDir(async (dir) => {
    const all = await ferry(["items", "from-ndjson"], ndjson);
    equal(all.code, 0, all.stderr);
    const parquet = `${dir}/items.parquet`;
    equal((await ferry(["items", "to-parquet", parquet], all.stdout)).code, 0);
    const cases: [string[], string[]][] = [
      [["--providers", "Esri"], ["object"]],
      [["--providers", "Maxar"], ["string"]],
      [["--providers", "USGS"], ["provider"]],
      [["--providers", "Jane"], ["oam"]],
      [["--providers", "Esri,Jane", "--providers", "USGS"], ["object", "provider", "oam"]],
      [["--providers", "host"], []],
    ];
    for (const [flags, ids] of cases) {
      for (
        const [args, input] of [
          [["items", "from-ndjson", ...flags], ndjson],
          [["items", "from-json", ...flags], json],
          [["items", "from-parquet", parquet, ...flags], undefined],
        ] as const
      ) {
        const run = await ferry([...args], input);
        equal(run.code, 0, run.stderr);
        deepEqual(await idsOf(run.stdout), ids, args.join(" "));
      }
    }
  });
});
