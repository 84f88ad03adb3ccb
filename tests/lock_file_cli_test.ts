/**
 * Every command that takes a lock path reads Parquet or an Arrow IPC stream,
 * from a regular file, a FIFO (`mkfifo`) or a shell's `<(…)` (`/dev/fd/N`),
 * as stacpkg's recipes pass them.
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { type CliBytesResult, itemsOf, runCliBytes, withTempDir } from "./_cli.ts";
import { readLockParquetRows, writeLockParquetFile } from "../lib/lock/parquet.ts";

const ferry = runCliBytes;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Items with two local assets each, their IPC, their lock as IPC and as Parquet. */
async function fixture(dir: string) {
  const lines: string[] = [];
  for (const id of ["one", "two"]) {
    for (const asset of ["data", "thumb"]) {
      await Deno.writeFile(`${dir}/${id}-${asset}.bin`, new TextEncoder().encode(`${id} ${asset}`));
    }
    lines.push(JSON.stringify({
      type: "Feature",
      stac_version: "1.1.0",
      id,
      geometry: null,
      properties: { datetime: "2024-01-01T00:00:00Z" },
      links: [],
      assets: {
        data: { href: `${dir}/${id}-data.bin` },
        thumb: { href: `${dir}/${id}-thumb.bin` },
      },
    }));
  }
  await Deno.writeTextFile(`${dir}/items.ndjson`, lines.join("\n") + "\n");
  const items = await ferry(["items", "from-ndjson", `${dir}/items.ndjson`]);
  equal(items.code, 0, items.stderr);
  const lockIpc = await ferry(["asset-lock", "derive", "--checksum", "sha256"], items.stdout);
  equal(lockIpc.code, 0, lockIpc.stderr);
  const lockParquet = `${dir}/lock.parquet`;
  equal((await ferry(["asset-lock", "to-parquet", lockParquet], lockIpc.stdout)).code, 0);
  await Deno.writeFile(`${dir}/lock.arrows`, lockIpc.stdout);
  return { items: items.stdout, lockIpc: lockIpc.stdout, lockParquet };
}

/** FIFOs whose writer still waits for a reader (a failed test must not leave them blocked). */
const waiting = new Set<string>();

/** A FIFO at `path` that a background writer fills with `bytes` once a reader opens it. */
async function fifo(path: string, bytes: Uint8Array): Promise<{ written: Promise<void> }> {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  equal(made.code, 0, new TextDecoder().decode(made.stderr));
  waiting.add(path);
  const written = (async () => {
    const file = await Deno.open(path, { write: true });
    waiting.delete(path);
    await ReadableStream.from([bytes]).pipeTo(file.writable).catch(() => {});
  })();
  // Wrapped: an async function returning the promise itself would wait for it.
  return { written };
}

/** Opens every FIFO nobody read, so its writer finishes. */
async function drainFifos(): Promise<void> {
  for (const path of [...waiting]) {
    const file = await Deno.open(path);
    await file.readable.pipeTo(new WritableStream());
  }
}

function validRows(r: CliBytesResult): { item_id: string; asset_key: string; valid: boolean }[] {
  return r.text.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("every --asset-lock reads an Arrow IPC stream file as well as Parquet", async () => {
  await withTempDir(async (dir) => {
    const { items, lockParquet } = await fixture(dir);
    for (const lock of [lockParquet, `${dir}/lock.arrows`]) {
      const enriched = await itemsOf(await ferry(["items", "enrich", "--asset-lock", lock], items));
      equal(enriched[0]!.assets.data!["file:size"], 8, lock);
      const added = await itemsOf(
        await ferry(["items", "add-alternate", "--asset-lock", lock, "--key", "copy"], items),
      );
      ok(added[1]!.assets.thumb!.alternate, lock);
      const checked = await ferry(["asset-lock", "validate", "--asset-lock", lock, "--deep"]);
      equal(checked.code, 0, checked.stderr);
      equal(validRows(checked).length, 4);
      const positional = await ferry(["asset-lock", "validate", lock]);
      equal(positional.code, 0, positional.stderr);
      const built = await ferry([
        "build",
        `${dir}/pkg-${lock.endsWith("arrows")}`,
        "--asset-lock",
        lock,
      ], items);
      equal(built.code, 0, built.stderr);
      equal(JSON.parse(built.text).assets, 4);
    }
  });
});

Deno.test({
  name: "every command that takes a lock path reads it from a FIFO, as IPC and as Parquet",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withTempDir(async (dir) => {
      const { items, lockIpc, lockParquet } = await fixture(dir);
      const parquet = await Deno.readFile(lockParquet);
      let n = 0;
      for (const [kind, bytes] of [["ipc", lockIpc], ["parquet", parquet]] as const) {
        const next = async () => {
          const path = `${dir}/fifo-${kind}-${n++}`;
          return { path, written: (await fifo(path, bytes)).written };
        };
        let f = await next();
        const enriched = await itemsOf(
          await ferry(["items", "enrich", "--asset-lock", f.path], items),
        );
        await f.written;
        equal(enriched[1]!.assets.thumb!["file:size"], 9, kind);

        f = await next();
        const added = await itemsOf(
          await ferry(
            ["items", "add-alternate", "--asset-lock", f.path, "--alternate-key", "k"],
            items,
          ),
        );
        await f.written;
        equal(
          (added[0]!.assets.data!.alternate as Record<string, Record<string, unknown>>)
            .k!["alternate:name"],
          "k",
          kind,
        );

        f = await next();
        const checked = await ferry(["asset-lock", "validate", "--asset-lock", f.path]);
        await f.written;
        equal(checked.code, 0, checked.stderr);
        deepEqual(validRows(checked).map((r) => r.valid), [true, true, true, true]);

        f = await next();
        const built = await ferry(["build", `${dir}/pkg-${kind}`, "--asset-lock", f.path], items);
        await f.written;
        equal(built.code, 0, built.stderr);
        deepEqual(
          (await readLockParquetRows(`${dir}/pkg-${kind}/assets.lock.parquet`)).map((r) => r.key),
          (await readLockParquetRows(lockParquet)).map((r) => r.key),
        );

        // relocate: the source lock and the destination lock, both FIFOs.
        f = await next();
        const planned = await ferry([
          "asset-lock",
          "relocate",
          f.path,
          "--store-type",
          "file",
          "--key",
          `${dir}/moved-${kind}/`,
          "--dry-run",
        ]);
        await f.written;
        equal(planned.code, 0, planned.stderr);
        const source = await next();
        const destination = {
          path: `${dir}/dest-${kind}`,
          written: (await fifo(`${dir}/dest-${kind}`, planned.stdout)).written,
        };
        const moved = await ferry([
          "asset-lock",
          "relocate",
          source.path,
          "--destination-lock",
          destination.path,
        ]);
        await source.written;
        await destination.written;
        equal(moved.code, 0, moved.stderr);
        const copied = await Array.fromAsync(Deno.readDir(`${dir}/moved-${kind}`));
        equal(copied.length, 2, kind);
      }
    }).finally(drainFifos);
  },
});

Deno.test("locks from <(...) process substitution (/dev/fd/N) work in a real shell pipeline", async () => {
  await withTempDir(async (dir) => {
    const { lockParquet } = await fixture(dir);
    const ferryFn = 'ferry() { "$DENO" run -A --no-prompt --config "$CONFIG" "$CLI" "$@"; }';
    const script = [
      ferryFn,
      `ferry items from-ndjson '${dir}/items.ndjson' > '${dir}/items.arrows'`,
      // stacpkg's recipe: the lock as an IPC stream through <(…)
      `ferry items enrich --asset-lock <(ferry asset-lock from-parquet '${lockParquet}') < '${dir}/items.arrows' | ferry items to-ndjson > '${dir}/enriched.ndjson'`,
      // Parquet through <(cat …): spooled, then read
      `ferry asset-lock validate --asset-lock <(cat '${lockParquet}') > '${dir}/valid.ndjson'`,
      `ferry build '${dir}/pkg' --asset-lock <(ferry asset-lock from-parquet '${lockParquet}') < '${dir}/items.arrows' > /dev/null`,
    ].join("\n");
    const out = await new Deno.Command("bash", {
      args: ["-o", "pipefail", "-e", "-c", script],
      env: { DENO: Deno.execPath(), CONFIG, CLI, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const enriched = (await Deno.readTextFile(`${dir}/enriched.ndjson`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    equal(enriched[0].assets.data["file:size"], 8);
    ok(enriched[0].assets.data["file:checksum"].startsWith("1220"));
    const valid = (await Deno.readTextFile(`${dir}/valid.ndjson`)).trim().split("\n");
    equal(valid.length, 4);
    ok(valid.every((l) => JSON.parse(l).valid));
    equal((await readLockParquetRows(`${dir}/pkg/assets.lock.parquet`)).length, 4);
  });
});

Deno.test({
  name:
    "a lock path that is neither Parquet nor IPC, empty, a folder or missing is a one-line error",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withTempDir(async (dir) => {
      const { items } = await fixture(dir);
      await Deno.writeTextFile(`${dir}/lock.csv`, "item_id,asset_key\n");
      await Deno.writeFile(`${dir}/empty`, new Uint8Array());
      const garbage = await fifo(`${dir}/garbage-fifo`, new TextEncoder().encode("hello"));
      const empty = await fifo(`${dir}/empty-fifo`, new Uint8Array());
      const cases: [string[], RegExp][] = [
        [
          ["asset-lock", "validate", `${dir}/lock.csv`],
          /^ferry asset-lock validate: Invalid asset lock ".*lock\.csv": not a Parquet file nor an Arrow IPC stream \(it starts with bytes 69 74 65 6d\)$/,
        ],
        [
          ["asset-lock", "validate", "--asset-lock", `${dir}/empty`],
          /Invalid asset lock ".*empty": not a Parquet file nor an Arrow IPC stream \(it is empty\)$/,
        ],
        [
          ["asset-lock", "validate", `${dir}/garbage-fifo`],
          /Invalid asset lock ".*garbage-fifo": not a Parquet file nor an Arrow IPC stream \(it starts with bytes 68 65 6c 6c\)$/,
        ],
        [
          [
            "asset-lock",
            "relocate",
            `${dir}/empty-fifo`,
            "--store-type",
            "file",
            "--key",
            `${dir}/o/`,
          ],
          /Invalid asset lock ".*empty-fifo": .*\(it is empty\)$/,
        ],
        [
          ["asset-lock", "validate", dir],
          /Invalid asset lock ".*": it is a folder, not a file$/,
        ],
        [
          ["asset-lock", "relocate", `${dir}/lock.parquet`, "--destination-lock", `${dir}/nope`],
          /Cannot read asset lock ".*nope": no such file$/,
        ],
      ];
      for (const [args, pattern] of cases) {
        const r = await ferry(args);
        notEqual(r.code, 0, args.join(" "));
        equal(r.stdout.byteLength, 0, args.join(" "));
        equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
        match(r.stderr.trimEnd(), pattern);
      }
      await drainFifos();
      await garbage.written;
      await empty.written;
      const built = await ferry(["build", `${dir}/pkg`, "--asset-lock", `${dir}/lock.csv`], items);
      equal(built.code, 2);
      match(built.stderr, /^ferry build: Invalid asset lock ".*lock\.csv": not a Parquet file/);
      await Deno.stat(`${dir}/pkg`).then(() => ok(false, "package written"), () => {});
      await Deno.stat(`${dir}/o`).then(() => ok(false, "objects written"), () => {});
    });
  },
});

Deno.test("asset-lock validate prints each line as stacpkg does: json.dumps(result, sort_keys=True)", async () => {
  await withTempDir(async (dir) => {
    const { lockParquet, lockIpc } = await fixture(dir);
    await Deno.writeTextFile(`${dir}/two-thumb.bin`, "changed!");
    const fromPath = await ferry(["asset-lock", "validate", lockParquet]);
    equal(fromPath.code, 1, fromPath.stderr);
    // stacpkg reads the lock from stdin: the same lines.
    const fromStdin = await ferry(["asset-lock", "validate"], lockIpc);
    equal(fromStdin.text, fromPath.text);
    const lines = fromPath.text.trimEnd().split("\n");
    equal(
      lines[0],
      `{"asset_key": "data", "errors": [], "item_id": "one", "key": "${dir}/one-data.bin", "store_container": null, "store_type": "file", "valid": true}`,
    );
    ok(
      lines[3]!.startsWith(
        `{"asset_key": "thumb", "errors": ["size mismatch: expected 9, actual 8", "etag mismatch: expected `,
      ),
      lines[3],
    );
    ok(
      lines[3]!.endsWith(
        `"item_id": "two", "key": "${dir}/two-thumb.bin", "store_container": null, "store_type": "file", "valid": false}`,
      ),
      lines[3],
    );
  });
});

/** A file's state as stacpkg (object_store) records it: microsecond mtime, from GNU stat. */
async function stacpkgFacts(path: string): Promise<{ etag: string; last_modified: string }> {
  const out = await new Deno.Command("stat", { args: ["-c", "%i %s %Y %y", path] }).output();
  equal(out.code, 0);
  const [inode, size, seconds, , clock] = new TextDecoder().decode(out.stdout).trim().split(" ");
  const micros = BigInt(seconds!) * 1_000_000n + BigInt(clock!.split(".")[1]!.slice(0, 6));
  const hex = (n: bigint | number) => n.toString(16);
  const fraction = clock!.split(".")[1]!.slice(0, 6);
  const day = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return {
    etag: `${hex(BigInt(inode!))}-${hex(micros)}-${hex(Number(size))}`,
    last_modified: `${day}${/^0+$/.test(fraction) ? "" : `.${fraction}`}+00:00`,
  };
}

Deno.test("asset-lock validate accepts a lock stacpkg derived from local files (microsecond ETags and times)", async () => {
  await withTempDir(async (dir) => {
    const { lockParquet } = await fixture(dir);
    const stacpkgRows = [];
    for (const row of await readLockParquetRows(lockParquet)) {
      stacpkgRows.push({ ...row, ...(await stacpkgFacts(row.key)), checksum: null });
    }
    const lock = `${dir}/stacpkg.lock.parquet`;
    await writeLockParquetFile([stacpkgRows], lock);
    const r = await ferry(["asset-lock", "validate", lock]);
    equal(r.code, 0, r.text + r.stderr);
    equal(validRows(r).length, 4);
    // A changed file is still caught.
    await Deno.writeTextFile(`${dir}/one-data.bin`, "one DATA");
    const changed = await ferry(["asset-lock", "validate", lock]);
    equal(changed.code, 1);
    match(changed.text, /"etag mismatch: expected [0-9a-f]+-[0-9a-f]+-8, actual /);
  });
});
