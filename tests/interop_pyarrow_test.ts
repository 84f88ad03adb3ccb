/**
 * pyarrow, the Arrow and Parquet library that stacpkg and stac-geoparquet
 * stand on, reads what ferry writes and writes what ferry reads: a package's
 * `items.parquet` and `assets.lock.parquet`, ferry's IPC streams, and an IPC
 * stream of items as stacpkg builds one (`pa.Table.from_pylist`, WKB
 * geometry, timestamps, an all-null column). pyarrow comes from
 * `tests/services/install-clients.sh` (a venv in `.tools/pyarrow`, where a
 * package index is reachable) or `FERRY_PYARROW_PYTHON`; without it the
 * tests are skipped with the reason.
 */
// deno-lint-ignore-file no-console
import { deepEqual, equal, ok } from "node:assert/strict";
import { runCliBytes, withTempDir } from "./_cli.ts";
import { LOCK_COLUMNS } from "../lib/lock/schema.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const python = Deno.env.get("FERRY_PYARROW_PYTHON") ?? `${ROOT}.tools/pyarrow/bin/python`;

async function runPython(
  script: string,
  args: string[] = [],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = new Deno.Command(python, {
    args: ["-c", script, ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

async function pyarrowVersion(): Promise<string | undefined> {
  try {
    const r = await runPython("import pyarrow; print(pyarrow.__version__)");
    return r.code === 0 ? new TextDecoder().decode(r.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

const version = await pyarrowVersion();
if (!version) {
  console.warn(
    `skipping pyarrow interop tests: no pyarrow at ${python} (tests/services/install-clients.sh makes one where a package index is reachable; or set FERRY_PYARROW_PYTHON)`,
  );
}

const READ_PACKAGE = `
import json, sys
import pyarrow.parquet as pq
items = pq.read_table(sys.argv[1] + "/items.parquet")
lock = pq.read_table(sys.argv[1] + "/assets.lock.parquet")
meta = {k.decode(): v.decode() for k, v in (items.schema.metadata or {}).items()}
geo = json.loads(meta["geo"])
print(json.dumps({
  "rows": items.num_rows,
  "columns": items.schema.names,
  "ids": items.column("id").to_pylist(),
  "types": sorted(set(items.column("type").to_pylist())),
  "geometry": str(items.schema.field("geometry").type),
  "links": str(items.schema.field("links").type),
  "primary_column": geo["primary_column"],
  "encoding": geo["columns"]["geometry"]["encoding"],
  "lock_rows": lock.num_rows,
  "lock_columns": lock.schema.names,
  "lock_ids": sorted(set(lock.column("item_id").to_pylist())),
}))
`;

Deno.test({
  name: `pyarrow ${
    version ?? ""
  } reads a package ferry built: items.parquet (geo, type, links) and the lock`,
  ignore: !version,
  async fn() {
    await withTempDir(async (dir) => {
      const items = await runCliBytes([
        "items",
        "from-json",
        `${ROOT}tests/fixtures/stac/naip-pc.json`,
      ]);
      equal(items.code, 0, items.stderr);
      const build = await runCliBytes(
        ["build", `${dir}/pkg`, "--no-probe-metadata"],
        items.stdout,
      );
      equal(build.code, 0, build.stderr);
      const read = await runPython(READ_PACKAGE, [`${dir}/pkg`]);
      equal(read.code, 0, read.stderr);
      const facts = JSON.parse(new TextDecoder().decode(read.stdout));
      equal(facts.rows, 4);
      deepEqual(facts.types, ["Feature"]);
      equal(facts.geometry, "binary");
      ok(facts.links.startsWith("list<element: struct<href: string, rel: string"), facts.links);
      equal(facts.primary_column, "geometry");
      equal(facts.encoding, "WKB");
      ok(!facts.columns.includes("ferry:overflow"), facts.columns.join(","));
      equal(facts.lock_rows > 0, true);
      deepEqual(facts.lock_columns, [...LOCK_COLUMNS]);
      deepEqual(facts.lock_ids, [...facts.ids].sort());
    });
  },
});

const WRITE_STACPKG_STREAM = `
import struct, sys
from datetime import datetime, timezone
import pyarrow as pa
def polygon(x, y):
    ring = [(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1), (x, y)]
    return struct.pack("<BII", 1, 3, 1) + struct.pack("<I", len(ring)) + b"".join(struct.pack("<dd", *p) for p in ring)
rows = [{
    "type": "Feature",
    "stac_version": "1.0.0",
    "stac_extensions": [],
    "id": f"py-{i}",
    "geometry": polygon(10 + i, 45),
    "bbox": {"xmin": 10.0 + i, "ymin": 45.0, "xmax": 11.0 + i, "ymax": 46.0},
    "links": [],
    "assets": {"data": {"href": f"s3://bucket/py-{i}.tif", "type": "image/tiff; application=geotiff"}},
    "collection": "py",
    "datetime": None,
    "start_datetime": datetime(2024, 1, 1 + i, tzinfo=timezone.utc),
    "end_datetime": datetime(2024, 2, 1, tzinfo=timezone.utc),
    "gsd": 0.5 * (i + 1),
} for i in range(3)]
table = pa.Table.from_pylist(rows)
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, table.schema) as writer:
    writer.write_table(table)
sys.stdout.buffer.write(sink.getvalue().to_pybytes())
`;

Deno.test({
  name: `pyarrow ${
    version ?? ""
  }: ferry reads an IPC stream of items as stacpkg writes one (WKB, timestamps, an all-null datetime)`,
  ignore: !version,
  async fn() {
    const written = await runPython(WRITE_STACPKG_STREAM);
    equal(written.code, 0, written.stderr);
    const back = await runCliBytes(["items", "to-ndjson"], written.stdout);
    equal(back.code, 0, back.stderr);
    const items = back.text.trim().split("\n").map((line) => JSON.parse(line));
    deepEqual(items.map((i) => i.id), ["py-0", "py-1", "py-2"]);
    const first = items[0];
    equal(first.type, "Feature");
    equal(first.geometry.type, "Polygon");
    deepEqual(first.geometry.coordinates[0][0], [10, 45]);
    deepEqual(first.bbox, [10, 45, 11, 46]);
    equal(first.properties.datetime, null, "STAC requires the key: null, not dropped");
    equal(first.properties.start_datetime, "2024-01-01T00:00:00Z");
    equal(first.properties.gsd, 0.5);
    equal(first.assets.data.href, "s3://bucket/py-0.tif");
  },
});

Deno.test({
  name: `pyarrow ${
    version ?? ""
  } reads ferry's IPC stream of items (a row each, type and geometry columns)`,
  ignore: !version,
  async fn() {
    const stream = await runCliBytes([
      "items",
      "from-json",
      `${ROOT}tests/fixtures/stac/sentinel-2-l2a-pc.json`,
    ]);
    equal(stream.code, 0, stream.stderr);
    const read = await runPython(
      `import sys, json, pyarrow as pa
t = pa.ipc.open_stream(sys.stdin.buffer).read_all()
print(json.dumps({"rows": t.num_rows, "names": t.schema.names, "ids": t.column("id").to_pylist()}))`,
      [],
      stream.stdout,
    );
    equal(read.code, 0, read.stderr);
    const facts = JSON.parse(new TextDecoder().decode(read.stdout));
    equal(facts.rows, 4);
    ok(facts.names.includes("type") && facts.names.includes("geometry"), facts.names.join(","));
    equal(new Set(facts.ids).size, 4);
  },
});
