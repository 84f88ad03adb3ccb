import { deepEqual, rejects } from "node:assert/strict";
import { planPackageLayers } from "./artifact.ts";
import { layerMediaTypeOf } from "./media_types.ts";

Deno.test("planPackageLayers() follows stacpkg: items, lock, then entries by name, assets one by one, folders zipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = async (path: string) => {
      await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${path}`, path);
    };
    for (
      const path of [
        "items.parquet",
        "assets.lock.parquet",
        "manifest.json",
        "Zeta.txt",
        "alpha.tar.gz",
        "extra.parquet",
        "assets/b/x.tif",
        "assets/a-b/y.tif",
        "assets/a/z.tif",
        "docs/b-c/1",
        "docs/b/2",
        ".hidden",
      ]
    ) await write(path);
    await Deno.mkdir(`${dir}/empty`);
    await Deno.symlink(`${dir}/Zeta.txt`, `${dir}/docs/link.txt`);
    await Deno.symlink(`${dir}/docs`, `${dir}/docs/loop`);
    const layers = await planPackageLayers(dir);
    deepEqual(layers.map((l) => [l.title, l.mediaType]), [
      ["items.parquet", "application/vnd.stacpkg.items.v1.parquet"],
      ["assets.lock.parquet", "application/vnd.stacpkg.asset-lock.v1.parquet"],
      [".hidden", "application/octet-stream"],
      ["Zeta.txt", "text/plain"],
      ["alpha.tar.gz", "application/x-tar"],
      ["assets/a/z.tif", "application/vnd.stacpkg.asset.v1"],
      ["assets/a-b/y.tif", "application/vnd.stacpkg.asset.v1"],
      ["assets/b/x.tif", "application/vnd.stacpkg.asset.v1"],
      ["docs", "application/vnd.stacpkg.files.v1+zip"],
      ["empty", "application/vnd.stacpkg.files.v1+zip"],
      ["extra.parquet", "application/vnd.apache.parquet"],
    ]);
    const docs = layers.find((l) => l.title === "docs")!.source;
    // Files only, part by part (b/2 before b-c/1), a linked file followed, a linked folder not entered.
    deepEqual(docs.kind === "zip" && docs.files.map((f) => f.name), [
      "docs/b/2",
      "docs/b-c/1",
      "docs/link.txt",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("planPackageLayers() refuses a folder that is not a package, and unsafe names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(() => planPackageLayers(`${dir}/missing`), {
      name: "TypeError",
      message: `Package "${dir}/missing" is not a folder: it does not exist`,
    });
    await Deno.writeTextFile(`${dir}/items.parquet`, "x");
    await rejects(() => planPackageLayers(dir), {
      name: "TypeError",
      message: `Package "${dir}" is not a package: missing assets.lock.parquet`,
    });
    await Deno.writeTextFile(`${dir}/assets.lock.parquet`, "x");
    await Deno.writeTextFile(`${dir}/back\\slash.txt`, "x");
    await rejects(() => planPackageLayers(dir), {
      name: "SyntaxError",
      message: 'Unsafe package entry "back\\slash.txt": it contains "\\"',
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("layerMediaTypeOf() answers as Python's mimetypes does for stacpkg", () => {
  deepEqual(
    ["a.json", "a.geojson", "A.PNG", "a.tgz", "a.txt.bz2", "a.xyz", "Makefile", "..md", "a.tif"]
      .map(layerMediaTypeOf),
    [
      "application/json",
      "application/geo+json",
      "image/png",
      "application/x-tar",
      "text/plain",
      "application/octet-stream",
      "application/octet-stream",
      "application/octet-stream",
      "image/tiff",
    ],
  );
});
