/**
 * The manifest-exchange cases every store runs (file, S3 via Swift's s3api,
 * native Swift): the commands end to end, concurrent appenders, and bad
 * input. A store's test calls {@linkcode runExchangeCases} with its URL base.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { runCli, withTempDir } from "./_cli.ts";
import { getBytes, listAll, openLocation } from "../lib/stores/mod.ts";
import {
  getObject,
  parseEntry,
  partKeyFor,
  readManifest,
  readManifestFile,
  serializeEntry,
} from "../lib/exchange/mod.ts";

/** What a store's test passes in. */
export interface ExchangeCaseOptions {
  /** The store's name, prefixed to every case. */
  name: string;
  /** A fresh URL base (no trailing slash) for one case, e.g. `s3://bucket/case-3`. */
  base(): string;
  /** Skip the whole list (with the reason printed by whoever decided). */
  ignore?: boolean;
  /** Cleans up after all cases. */
  cleanup?: () => Promise<void>;
  /** How the root is expected to be updated: `cas` or `lock`. */
  rootUpdate: "cas" | "lock";
}

const FILES = 6;

async function sources(dir: string): Promise<{ lines: string; bytes: Map<string, Uint8Array> }> {
  const bytes = new Map<string, Uint8Array>();
  const lines: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const data = new Uint8Array(1000 + i * 1500).map((_, j) => (j * (i + 7)) & 0xff);
    const path = `${dir}/src/d${i % 2}/${i}.bin`;
    await Deno.mkdir(`${dir}/src/d${i % 2}`, { recursive: true });
    await Deno.writeFile(path, data);
    bytes.set(`d${i % 2}/${i}.bin`, data);
    lines.push(
      JSON.stringify({ source: path, member_path: `d${i % 2}/${i}.bin`, meta: { i, sr: 1.5 } }),
    );
  }
  return { lines: lines.join("\n") + "\n", bytes };
}

const ok0 = (r: { code: number; stderr: string }) => equal(r.code, 0, r.stderr);

/**
 * Registers the cases as Deno tests.
 *
 * @param options The store under test.
 */
export function runExchangeCases(options: ExchangeCaseOptions): void {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${options.name}: ${name}`, ignore: options.ignore, fn });

  test("manifest write overwrite, cat round-trips the bytes; append_parts adds parts and refs", async () => {
    const base = options.base();
    const input = [
      '{"kind":"file","key":"a/1.bin","id":"1","meta":{"sr":16000.0,"n":"é"},"size_bytes":3,"etag":null}',
      '{"kind": "file", "key": "a/2.bin", "extra": [1, 2.50]}',
      '{"kind":"manifest_ref","key":"a/other.jsonl"}',
    ];
    const over = await runCli(["manifest", "write", `${base}/over.jsonl`], input.join("\n") + "\n");
    ok0(over);
    equal(JSON.parse(over.stdout).entries, 3);
    const { store, key } = openLocation(`${base}/over.jsonl`);
    const canonical = input.map((l) => serializeEntry(parseEntry(l))).join("\n") + "\n";
    equal(new TextDecoder().decode(await getBytes(store, key)), canonical);
    ok(canonical.includes('{"sr":16000.0,'));
    const raw = await runCli(["manifest", "cat", `${base}/over.jsonl`, "--no-resolve-refs"]);
    ok0(raw);
    equal(
      raw.stdout.split("\n")[0],
      '{"kind":"file","key":"a/1.bin","id":"1","meta":{"sr":16000.0,"n":"\\u00e9"},"size_bytes":3,"etag":null}',
    );
    const missing = await runCli(["manifest", "cat", `${base}/over.jsonl`]);
    equal(missing.code, 3);
    match(
      missing.stderr,
      /^ferry manifest cat: Manifest not found: "[^"]*a\/other\.jsonl" \(referenced by "[^"]*over\.jsonl"\)\n$/,
    );

    const root = `${base}/job/manifest.jsonl`;
    for (const n of [1, 2]) {
      const r = await runCli(
        ["manifest", "write", root, "--mode", "append_parts"],
        `{"kind":"file","key":"f${n}"}\n`,
      );
      ok0(r);
      const report = JSON.parse(r.stdout);
      equal(report.parts.length, 1);
      match(report.parts[0], /\/job\/manifests\/part-\d{8}-\d{6}-[0-9a-f]{8}\.jsonl$/);
      equal(
        report.root_update.method,
        n === 1 && options.rootUpdate === "lock" ? report.root_update.method : options.rootUpdate,
      );
    }
    const cat = await runCli(["manifest", "cat", root]);
    deepEqual(cat.stdout.trim().split("\n").map((l) => JSON.parse(l).key), ["f1", "f2"]);
    const refs = await runCli(["manifest", "cat", root, "--no-resolve-refs"]);
    deepEqual(refs.stdout.trim().split("\n").map((l) => JSON.parse(l).kind), [
      "manifest_ref",
      "manifest_ref",
    ]);
    equal(
      (await runCli(["manifest", "cat", root, "--limit", "1"])).stdout.trim().split("\n").length,
      1,
    );
    const opened = openLocation(root);
    const folder = opened.key.slice(0, opened.key.lastIndexOf("/") + 1);
    const pending = (await listAll(opened.store, folder)).filter((e) =>
      e.kind === "object" && /\.pending\/|\.lock\//.test(e.key)
    );
    deepEqual(pending, []);
  });

  test("shard create (tar and tar.gz), shard ls, manifest ls/get/compact/rm", async () => {
    await withTempDir(async (dir) => {
      const base = options.base();
      const { lines, bytes } = await sources(dir);
      const root = `${base}/ds/manifest.jsonl`;
      const tar = await runCli(
        [
          "shard",
          "create",
          "--manifest",
          root,
          "--prefix",
          `${base}/ds/shards`,
          "--max-entries",
          "4",
        ],
        lines,
      );
      ok0(tar);
      const report = JSON.parse(tar.stdout);
      deepEqual([report.shards, report.members], [2, FILES]);
      const gz = await runCli(
        [
          "shard",
          "create",
          "--manifest",
          root,
          "--prefix",
          `${base}/ds/gz`,
          "--max-bytes",
          "9KB",
          "--gzip",
        ],
        lines,
      );
      ok0(gz);
      ok(JSON.parse(gz.stdout).shards >= 2);
      const archive = JSON.parse(tar.stdout).archives[0];
      match(archive, /ds\/shards\/shard-000001\.tar$/);
      const ls = await runCli(["shard", "ls", `${base}/ds/shards/shard-000001.tar`]);
      ok0(ls);
      const internal = ls.stdout.trim().split("\n").map((l) => JSON.parse(l));
      deepEqual(Object.keys(internal[0]), [
        "kind",
        "key",
        "member_path",
        "id",
        "meta",
        "size_bytes",
        "offset_bytes",
      ]);
      equal(internal[0].key, `${archive}#d0/0.bin`);
      deepEqual(internal[0].meta, { i: 0, sr: 1.5 });

      const files = await runCli(["manifest", "ls", root]);
      equal(
        files.stdout.trim().split("\n").filter((l) => JSON.parse(l).kind === "shard").length,
        2 + JSON.parse(gz.stdout).shards,
      );
      const members = await runCli(["manifest", "ls", root, "--expand-shards"]);
      equal(members.stdout.trim().split("\n").length, 2 * FILES);
      const under = await runCli([
        "manifest",
        "ls",
        root,
        "--expand-shards",
        "--prefix",
        `${archive}#d1/`,
      ]);
      deepEqual(under.stdout.trim().split("\n").map((l) => JSON.parse(l).member_path), [
        "d1/1.bin",
        "d1/3.bin",
      ]);

      // A member of an uncompressed tar, by range; one of a tar.gz, by streaming.
      const { store } = openLocation(root);
      for (const key of [`${archive}#d1/3.bin`, `${JSON.parse(gz.stdout).archives[0]}#d0/0.bin`]) {
        const { body } = await getObject(store, key);
        deepEqual(
          new Uint8Array(await new Response(body).arrayBuffer()),
          bytes.get(key.split("#")[1]!),
        );
      }

      // Both shard sets hold the same member paths: one download each.
      const onlyTar = `${base}/ds/tar-only.jsonl`;
      ok0(
        await runCli(
          ["manifest", "write", onlyTar],
          JSON.parse(tar.stdout).archives.map((a: string) =>
            JSON.stringify({ kind: "shard", archive_key: a, format: "tar", compression: null })
          ).join("\n"),
        ),
      );
      const get = await runCli([
        "manifest",
        "get",
        onlyTar,
        "--output-dir",
        `${dir}/out`,
        "--max-workers",
        "2",
      ]);
      ok0(get);
      equal(JSON.parse(get.stdout).objects, FILES);
      for (const [path, data] of bytes) deepEqual(await Deno.readFile(`${dir}/out/${path}`), data);
      const clash = await runCli(["manifest", "get", root, "--output-dir", `${dir}/clash`]);
      equal(clash.code, 2);
      match(clash.stderr, /is written to the same path "d[01]\/\d\.bin"\n$/);
      await Deno.stat(`${dir}/clash`).then(() => ok(false, "output written"), () => {});

      const compact = await runCli([
        "manifest",
        "compact",
        root,
        `${base}/ds/compact.jsonl`,
        "--expand-shards",
      ]);
      ok0(compact);
      deepEqual(JSON.parse(compact.stdout).expanded_shards, 2 * FILES);
      const compacted = await runCli(["manifest", "cat", `${base}/ds/compact.jsonl`]);
      equal(compacted.stdout, members.stdout);

      const rm = await runCli(["manifest", "rm", root]);
      ok0(rm);
      const deleted = JSON.parse(rm.stdout);
      equal(deleted.deleted_archive_count, 2 + JSON.parse(gz.stdout).shards);
      equal(deleted.deleted_manifest_count, 3);
      const left = (await listAll(store, openLocation(`${base}/ds/`).key)).filter((e) =>
        e.kind === "object"
      )
        .map((e) => (e as { key: string }).key.split("/ds/")[1]);
      deepEqual(left.sort(), ["compact.jsonl", "tar-only.jsonl"]);
    });
  });

  test("8 concurrent appender processes x 50 parts: every entry survives, the root holds every ref", async () => {
    const base = options.base();
    const root = `${base}/conc/manifest.jsonl`;
    const workers = Array.from({ length: 8 }, (_, w) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./_append_worker.ts", import.meta.url).pathname,
          root,
          "50",
          `w${w}`,
        ],
        stdout: "null",
        stderr: "piped",
      }).output());
    for (const out of await Promise.all(workers)) {
      equal(out.code, 0, new TextDecoder().decode(out.stderr).slice(-2000));
    }
    const { store, key } = openLocation(root);
    const keys = new Set<string>();
    for await (const entry of readManifest(store, key)) keys.add(String(entry.key));
    equal(keys.size, 400);
    // What s3exchange reads: the root file alone.
    let refs = 0;
    for await (const entry of readManifestFile(store, key)) {
      if (entry.kind === "manifest_ref") refs++;
    }
    equal(refs, 400);
  });

  test("bad input: one line naming the input and position, exit != 0, nothing written", async () => {
    await withTempDir(async (dir) => {
      const base = options.base();
      const root = `${base}/bad/manifest.jsonl`;
      const { store, key } = openLocation(root);
      const prefix = key.slice(0, key.lastIndexOf("/") + 1);
      for (const mode of ["overwrite", "append_parts"]) {
        const r = await runCli(
          ["manifest", "write", root, "--mode", mode],
          '{"kind":"file","key":"a"}\n\n{"kind":"file","key":"b"\n',
        );
        equal(r.code, 2);
        match(
          r.stderr,
          /^ferry manifest write: Invalid manifest "stdin" line 3: invalid JSON \([^\n]*\)\n$/,
        );
        const r2 = await runCli(
          ["manifest", "write", root, "--mode", mode],
          '{"kind":"file","key":"a"}\n{"kind":"dir","key":"x"}\n',
        );
        match(r2.stderr, /line 2: unknown entry kind "dir"\n$/);
        const r3 = await runCli(["manifest", "write", root, "--mode", mode], '{"kind":"shard"}\n');
        match(r3.stderr, /line 1: missing "archive_key" in a shard entry\n$/);
      }
      deepEqual(await listAll(store, prefix), []);

      const bad = await runCli([
        "shard",
        "create",
        "--manifest",
        root,
        "--prefix",
        `${base}/bad/shards`,
      ], `{"source":"${dir}/nope.bin"}\n`);
      equal(bad.code, 3);
      match(bad.stderr, /^ferry shard create: .*nope\.bin/);
      const badLine = await runCli([
        "shard",
        "create",
        "--manifest",
        root,
        "--prefix",
        `${base}/bad/shards`,
      ], '{"member_path":"x"}\n');
      equal(badLine.code, 2);
      match(badLine.stderr, /Invalid shard source "stdin" line 1: missing "source"/);
      deepEqual(await listAll(store, prefix), []);

      const fixtures = new URL("./fixtures/bad/", import.meta.url).pathname;
      const expected: Record<string, RegExp> = {
        "dotdot.tar": /member 3 "\.\.\/evil\.txt": the path leaves the output folder/,
        "absolute.tar": /member 3 "\/tmp\/evil\.txt": the path is absolute/,
        "symlink-outside.tar": /member 3 "link": the link points outside the output folder/,
        "hardlink-outside.tar": /member 3 "hard": the link points outside the output folder/,
        "device.tar": /member 3 "null": device files are not extracted/,
        "truncated.tar": /at byte 2236: after member \d: tar archive is truncated/,
        "not-a-tar.tar": /at byte \d+: member 1: invalid tar (header checksum|number)/,
        "corrupt.tar.gz": /at byte \d+: (member 1|after member \d): corrupt gzip stream/,
      };
      for (const [name, reason] of Object.entries(expected)) {
        const archive = `${base}/bad/shards/${name}`;
        const { store: s, key: k } = openLocation(archive);
        await s.put(k, (await Deno.open(`${fixtures}${name}`)).readable);
        ok0(
          await runCli(
            ["manifest", "write", root],
            JSON.stringify({
              kind: "shard",
              archive_key: k,
              format: "tar",
              compression: name.endsWith(".gz") ? "gzip" : null,
            }) + "\n",
          ),
        );
        const get = await runCli(["manifest", "get", root, "--output-dir", `${dir}/out-${name}`]);
        equal(get.code, 1, `${name}: ${get.stderr}`);
        equal(get.stderr.split("\n").length, 2, get.stderr);
        ok(get.stderr.startsWith(`ferry manifest get: Cannot read shard "${k}"`), get.stderr);
        match(get.stderr, reason, name);
        await Deno.stat(`${dir}/out-${name}`).then(
          () => ok(false, `${name}: output written`),
          () => {},
        );
      }
      const notTar = await runCli(["shard", "ls", `${base}/bad/shards/not-a-tar.tar`]);
      equal(notTar.code, 1);
      match(notTar.stderr, /at byte \d+: member 1: invalid tar (header checksum|number)\n$/);
      match(partKeyFor("x/m.jsonl"), /^x\/manifests\/part-/);
    });
  });

  if (options.cleanup) {
    Deno.test({ name: `${options.name}: cleanup`, ignore: options.ignore, fn: options.cleanup });
  }
}
