/**
 * The items, build and inspect commands on input as real users have it:
 * byte order marks, CRLF, gzip, UTF-16, odd asset facts, filters.
 */
import { deepEqual, equal, match, notEqual } from "node:assert/strict";
import { type CliBytesResult, runCliBytes, withTempDir } from "./_cli.ts";
import { duck } from "./_duckdb.ts";

const ferry = runCliBytes;
const encode = (text: string) => new TextEncoder().encode(text);
const ndjson = (r: CliBytesResult) =>
  r.text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));

const item = (id: string, extra: Record<string, unknown> = {}) => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  geometry: { type: "Point", coordinates: [1, 2] },
  bbox: [1, 2, 1, 2],
  properties: { datetime: "2020-01-01T00:00:00Z" },
  links: [],
  assets: { data: { href: `s3://b/${id}.tif` } },
  ...extra,
});
const A = JSON.stringify(item("a"));
const B = JSON.stringify(item("b"));

async function write(path: string, content: string | Uint8Array): Promise<string> {
  await Deno.writeFile(path, typeof content === "string" ? encode(content) : content);
  return path;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `ferry items from-KIND FILE | items to-ndjson`. */
async function roundTrip(kind: "json" | "ndjson", path: string): Promise<unknown[]> {
  const ipc = await ferry(["items", `from-${kind}`, path]);
  equal(ipc.code, 0, ipc.stderr);
  const back = await ferry(["items", "to-ndjson"], ipc.stdout);
  equal(back.code, 0, back.stderr);
  return ndjson(back).map((i) => i.id);
}

Deno.test("ferry items: a BOM, CRLF line ends, blank lines and a last line without newline are read", async () => {
  await withTempDir(async (dir) => {
    const bom = "\ufeff";
    const cases: [string, "json" | "ndjson", string, string[]][] = [
      ["bom.ndjson", "ndjson", `${bom}${A}\n${B}\n`, ["a", "b"]],
      ["bom.json", "json", `${bom}[${A},\r\n${B}]`, ["a", "b"]],
      ["crlf.ndjson", "ndjson", `${A}\r\n\r\n${B}\r\n`, ["a", "b"]],
      ["blank.ndjson", "ndjson", `\n\n${A}\n \t\n${B}`, ["a", "b"]],
      // Files with a BOM each, concatenated.
      ["concat.ndjson", "ndjson", `${bom}${A}\n${bom}${B}\n`, ["a", "b"]],
      ["empty.ndjson", "ndjson", "", []],
      ["blanks.ndjson", "ndjson", " \n\r\n", []],
    ];
    for (const [name, kind, content, ids] of cases) {
      deepEqual(await roundTrip(kind, await write(`${dir}/${name}`, content)), ids, name);
    }
  });
});

Deno.test("ferry items: gzip, UTF-16, binary, array lines and empty JSON fail with one clean line, nothing written", async () => {
  await withTempDir(async (dir) => {
    const utf16 = new Uint8Array([
      0xff,
      0xfe,
      ...[...`${A}\n`].flatMap((c) => [c.charCodeAt(0), 0]),
    ]);
    const cases: [string, "json" | "ndjson", string | Uint8Array, RegExp][] = [
      [
        "gz.ndjson",
        "ndjson",
        await gzip(`${A}\n`),
        /:1: Invalid JSON: the input is gzip-compressed/,
      ],
      ["gz.json", "json", await gzip(A), /:1: Invalid JSON: the input is gzip-compressed/],
      ["utf16.json", "json", utf16, /:1: Invalid JSON: the input looks UTF-16 encoded/],
      ["bin.ndjson", "ndjson", new Uint8Array([0, 1, 2, 10]), /:1: Invalid JSON: .*\\u0000/],
      ["array.ndjson", "ndjson", `${A}\n[${A}]\n`, /:2: Item is a JSON array, not an object/],
      ["empty.json", "json", "", /: Invalid JSON: empty input$/],
      ["blank.json", "json", " \r\n\t", /: Invalid JSON: empty input$/],
    ];
    for (const [name, kind, content, pattern] of cases) {
      const path = await write(`${dir}/${name}`, content);
      const r = await ferry(["items", `from-${kind}`, path]);
      notEqual(r.code, 0, name);
      equal(r.stdout.byteLength, 0, name);
      const message = r.stderr.trimEnd();
      equal(message.split("\n").length, 1, message);
      match(message, new RegExp(`^ferry items from-${kind}: ${path}`), name);
      match(message, pattern, name);
      // No control characters reach the terminal.
      // deno-lint-ignore no-control-regex
      equal(/[\u0000-\u0008\u000b-\u001f\ufffd]/.test(message), false, JSON.stringify(message));
      const out = `${dir}/${name}.parquet`;
      const written = await ferry(["items", "to-parquet", out], r.stdout);
      notEqual(written.code, 0);
      deepEqual((await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.name === out), []);
      await Deno.stat(out).then(() => {
        throw new Error(`${out} was written`);
      }, () => {});
    }
  });
});

Deno.test("ferry items: filters and --batch-size 1 on collectionless items with odd ids", async () => {
  const items = [
    item("日本-1", { collection: undefined }),
    item("a,b", { collection: "c" }),
    { ...item("p"), properties: { providers: [null, "Esri", { name: 3 }, { name: "Esri" }] } },
    { ...item("q"), properties: { providers: { name: "Esri" } } },
  ];
  const input = encode(items.map((i) => JSON.stringify(i)).join("\n"));
  const ids = async (args: string[]) => {
    const r = await ferry(["items", "from-ndjson", "--batch-size", "1", ...args], input);
    equal(r.code, 0, r.stderr);
    return ndjson(await ferry(["items", "to-ndjson"], r.stdout)).map((i) => i.id);
  };
  deepEqual(await ids([]), ["日本-1", "a,b", "p", "q"]);
  deepEqual(await ids(["--collections", "c"]), ["a,b"]);
  deepEqual(await ids(["--providers", "Esri"]), ["p"]);
  deepEqual(await ids(["--item-ids", "日本-1"]), ["日本-1"]);
});

Deno.test("ferry build: odd file:size values are unknown sizes, not a failed build; DuckDB and inspect read the package", async () => {
  await withTempDir(async (dir) => {
    const sized = (id: string, size: unknown) =>
      item(id, { assets: { data: { href: `s3://b/${id}.tif`, "file:size": size } } });
    const items = [
      sized("float", 10.5),
      sized("negative", -1),
      sized("text", "12"),
      sized("whole", 7),
      item("no-assets", { assets: undefined }),
      item("odd-keys", {
        collection: "col|x",
        assets: { "a|b": { href: "s3://b/p" }, "ü x.y": { href: "https://h.example/ä b.tif" } },
      }),
      item("null-geometry", { geometry: null, bbox: null }),
    ];
    const ipc = await ferry(
      ["items", "from-ndjson"],
      encode(items.map((i) => JSON.stringify(i)).join("\n")),
    );
    const pkg = `${dir}/pkg`;
    const built = await ferry(["build", pkg, "--no-probe-metadata"], ipc.stdout);
    equal(built.code, 0, built.stderr);
    const rows = await duck(
      `SELECT item_id, asset_key, size_bytes FROM read_parquet('${pkg}/assets.lock.parquet') ORDER BY item_id, asset_key`,
    );
    deepEqual(rows.map((r) => [r.item_id, r.asset_key, r.size_bytes]), [
      ["float", "data", null],
      ["negative", "data", null],
      ["null-geometry", "data", null],
      ["odd-keys", "a|b", null],
      ["odd-keys", "ü x.y", null],
      ["text", "data", 12n],
      ["whole", "data", 7n],
    ]);
    const [count] = await duck(`SELECT count(*) AS n FROM read_parquet('${pkg}/items.parquet')`);
    equal(count!.n, 7n);
    const json = await ferry(["inspect", pkg, "--format", "json"]);
    equal(json.code, 0, json.stderr);
    const info = JSON.parse(json.text);
    deepEqual(info.items, { count: 7, collections: ["col|x"] });
    deepEqual(info.assets, {
      count: 7,
      asset_keys: ["a|b", "data", "ü x.y"],
      known_size_bytes: 19,
      known_size_count: 2,
    });
    for (const format of ["yaml", "markdown"]) {
      const r = await ferry(["inspect", pkg, "--format", format]);
      equal(r.code, 0, r.stderr);
      match(r.text, /ü x\.y/);
    }
  });
});

Deno.test("ferry items to-parquet / to-ndjson / build: NDJSON, Parquet or gzip on stdin say what they are", async () => {
  await withTempDir(async (dir) => {
    const ipc = await ferry(["items", "from-ndjson"], encode(`${A}\n`));
    const parquet = `${dir}/items.parquet`;
    equal((await ferry(["items", "to-parquet", parquet], ipc.stdout)).code, 0);
    const cases: [string[], Uint8Array, RegExp][] = [
      [
        ["items", "to-parquet", `${dir}/out.parquet`],
        encode(`${A}\n`),
        /looks like JSON; read it with `ferry items from-ndjson`/,
      ],
      [["items", "to-ndjson"], encode(`\ufeff [${A}]`), /looks like JSON/],
      [
        ["build", `${dir}/pkg`],
        await Deno.readFile(parquet),
        /this is a Parquet file; read it with `ferry items from-parquet FILE`/,
      ],
      [["items", "to-ndjson"], await gzip(A), /this is gzip-compressed data$/],
    ];
    for (const [args, stdin, pattern] of cases) {
      const r = await ferry(args, stdin);
      notEqual(r.code, 0);
      equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      match(r.stderr.trimEnd(), /^ferry [a-z -]+: stdin: Not an Arrow IPC stream \(/);
      match(r.stderr.trimEnd(), pattern);
    }
    deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["items.parquet"]);
  });
});

Deno.test("ferry inspect --format markdown: a | in a file name and a line break in an asset key keep the table and list intact", async () => {
  await withTempDir(async (dir) => {
    const extra = await write(`${dir}/a|b.txt`, "hi\n");
    const odd = item("a", { assets: { "x\ny": { href: "s3://b/k" } } });
    const ipc = await ferry(["items", "from-ndjson"], encode(JSON.stringify(odd)));
    const pkg = `${dir}/pkg`;
    const built = await ferry(
      ["build", pkg, "--no-probe-metadata", "--includes", extra],
      ipc.stdout,
    );
    equal(built.code, 0, built.stderr);
    const r = await ferry(["inspect", pkg, "--format", "markdown"]);
    equal(r.code, 0, r.stderr);
    const lines = r.text.split("\n");
    equal(lines.includes("- Asset keys: x\\ny"), true, r.text);
    const row = lines.find((l) => l.startsWith("| `a\\"))!;
    match(row, /^\| `a\\\|b\.txt` \| text\/plain \| 3 \| `sha256:[0-9a-f]{64}` \|$/);
  });
});
