import { deepEqual, equal, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readZipEntries, writeDeterministicZip } from "./zip.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function fixture(dir: string) {
  const files: [string, string, number][] = [
    ["docs/a.txt", "hello\n", 0o100644],
    ["docs/b/q", "q", 0o100644],
    ["docs/b-c/x", "x", 0o100755],
    ["docs/empty.txt", "", 0o100644],
    ["docs/long.txt", Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join(""), 0o100644],
    ["docs/ünï.md", "u", 0o100644],
  ];
  const out = [];
  for (const [i, [name, text, mode]] of files.entries()) {
    await Deno.writeTextFile(`${dir}/${i}`, text);
    out.push({ name, path: `${dir}/${i}`, mode });
  }
  return out;
}

Deno.test("writeDeterministicZip() writes the bytes Python's zipfile writes for stacpkg", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Digests of `zipfile.ZipFile(..., "w")` + `ZipInfo(name)` with date 1980-01-01,
    // ZIP_DEFLATED and `external_attr = mode << 16` (CPython 3.11, zlib 1.2.13).
    await writeDeterministicZip(await fixture(dir), `${dir}/x.zip`, dir);
    const bytes = await Deno.readFile(`${dir}/x.zip`);
    equal(bytes.byteLength, 46630);
    equal(sha256(bytes), "6f93f802b5646a6a28f359786fa349bac8f0f77184b0219e118edbc825b65c7e");
    await writeDeterministicZip([], `${dir}/empty.zip`, dir);
    equal(
      sha256(await Deno.readFile(`${dir}/empty.zip`)),
      "8739c76e681f900923b900c9df0ef75cf421d39cabb54650c4b9ad19b6a76d85",
    );
    // Nothing left behind but the ZIPs and the inputs.
    deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("zip-entry-")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readZipEntries() streams each entry with its mode, and refuses unsafe names by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = await fixture(dir);
    await writeDeterministicZip(files, `${dir}/x.zip`, dir);
    const seen: [string, number, string][] = [];
    for await (const entry of readZipEntries(`${dir}/x.zip`)) {
      const parts: Uint8Array<ArrayBuffer>[] = [];
      await entry.writeTo(new WritableStream({ write: (c) => void parts.push(c.slice()) }));
      seen.push([
        entry.name,
        entry.mode,
        sha256(new Uint8Array(await new Blob(parts).arrayBuffer())),
      ]);
    }
    deepEqual(
      seen.map(([n, m]) => [n, m]),
      files.map((f) => [f.name, f.mode]),
    );
    equal(seen[4]![2], sha256(await Deno.readFile(`${dir}/4`)));
    await writeDeterministicZip(
      [{ name: "../up.txt", path: `${dir}/0`, mode: 0o100644 }],
      `${dir}/evil.zip`,
      dir,
    );
    await rejects(async () => {
      for await (const _ of readZipEntries(`${dir}/evil.zip`, "layer 3")) { /* refused */ }
    }, {
      name: "SyntaxError",
      message: 'Unsafe ZIP entry in layer 3 "../up.txt": it has a ".." part',
    });
    await Deno.writeTextFile(`${dir}/not.zip`, "not a zip");
    await rejects(async () => {
      for await (const _ of readZipEntries(`${dir}/not.zip`, "layer 1")) { /* refused */ }
    }, (e: Error) => e instanceof SyntaxError && e.message.startsWith("Invalid ZIP layer 1"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
