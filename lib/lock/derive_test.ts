import { deepEqual, throws } from "node:assert/strict";
import { lockRowsOfItem, lockRowsOfItems } from "./derive.ts";
import { isRelativeHref } from "../stores/location.ts";
import { parseHref } from "../stores/location.ts";

Deno.test("lockRowsOfItem() locates http(s) hrefs exactly as parseHref() does", () => {
  const hrefs = [
    "https://a.b/c/d.tif",
    "https://a.b/c?x=1",
    "https://a.b/c?",
    "http://a.b:80/x",
    "https://a.b/?q",
    "https://h/p#f?x",
    "https://ho?st/x",
    "https:///x",
    "https://user:pw@a.b/x?y",
    "https://a.b/x y?z=ü",
    "HTTPS://A.B/x",
    "https://a.b\\x\\y",
    "https://a.b",
  ];
  for (const href of hrefs) {
    const row = lockRowsOfItem({ id: "i", assets: { k: { href } } })[0]!;
    const { store_type, store_container, store_endpoint_url, key } = row;
    deepEqual({ store_type, store_container, store_endpoint_url, key }, parseHref(href), href);
  }
  for (const href of ["https://a b/x", "https://a.b:99999/x?q"]) {
    throws(() => parseHref(href));
    throws(
      () => lockRowsOfItem({ id: "i", assets: { k: { href } } }),
      new RegExp(`^TypeError: Item "i", asset "k": `),
      href,
    );
  }
});

function locationsOf(links: unknown[] | undefined, hrefs: string[]) {
  const assets = Object.fromEntries(hrefs.map((href, i) => [`a${i}`, { href }]));
  return lockRowsOfItem({ id: "i", links, assets }).map((r) => [
    r.store_type,
    r.store_container,
    r.key,
  ]);
}

const self = (href: string) => [{ rel: "root", href: "/elsewhere/catalog.json" }, {
  rel: "self",
  href,
}];

Deno.test("lockRowsOfItem() resolves relative hrefs against an https self link", () => {
  deepEqual(
    locationsOf(self("https://host/catalog/items/x.json?sig=1"), [
      "B04.tif",
      "./B04.tif",
      "../x/B04.tif",
      "../../../../up.tif",
      "a b.tif",
      "https://other/abs.tif",
      "/abs/path.tif",
    ]),
    [
      ["https", "https://host", "catalog/items/B04.tif"],
      ["https", "https://host", "catalog/items/B04.tif"],
      ["https", "https://host", "catalog/x/B04.tif"],
      ["https", "https://host", "up.tif"],
      ["https", "https://host", "catalog/items/a%20b.tif"],
      ["https", "https://other", "abs.tif"],
      ["file", null, "/abs/path.tif"],
    ],
  );
});

Deno.test("lockRowsOfItem() resolves relative hrefs against s3 and swift self links, keys as written", () => {
  deepEqual(
    locationsOf(self("s3://bucket/cat/sub/x.json"), [
      "./B04.tif",
      "../x/B 04.tif",
      "../../../up.tif",
      "s3://other/k.tif",
    ]),
    [
      ["s3", "bucket", "cat/sub/B04.tif"],
      ["s3", "bucket", "cat/x/B 04.tif"],
      ["s3", "bucket", "up.tif"],
      ["s3", "other", "k.tif"],
    ],
  );
  deepEqual(locationsOf(self("swift://c/x.json"), ["B04.tif"]), [["swift", "c", "B04.tif"]]);
  deepEqual(locationsOf(self("s3://bucket"), ["./B04.tif"]), [["s3", "bucket", "B04.tif"]]);
  const [row] = lockRowsOfItem({
    id: "i",
    links: self("s3://bucket/cat/x.json"),
    assets: { k: { href: "B04.tif", store_endpoint_url: "http://127.0.0.1:8080" } },
  });
  deepEqual([row!.store_container, row!.key, row!.store_endpoint_url], [
    "bucket",
    "cat/B04.tif",
    "http://127.0.0.1:8080",
  ]);
});

Deno.test("lockRowsOfItem() resolves relative hrefs against an absolute-path or file:// self link", () => {
  deepEqual(locationsOf(self("/data/cat/items/x.json"), ["B04.tif", "./a/B04.tif", "../B04.tif"]), [
    ["file", null, "/data/cat/items/B04.tif"],
    ["file", null, "/data/cat/items/a/B04.tif"],
    ["file", null, "/data/cat/B04.tif"],
  ]);
  deepEqual(locationsOf(self("file:///data/my%20cat/x.json"), ["../B 04.tif"]), [
    ["file", null, "/data/B 04.tif"],
  ]);
});

Deno.test("lockRowsOfItem() keeps relative hrefs relative without an absolute self link", () => {
  for (const links of [undefined, [], [{ rel: "root", href: "/a/catalog.json" }], self("x.json")]) {
    deepEqual(locationsOf(links, ["./B04.tif", "../x/B04.tif"]), [
      ["file", null, "./B04.tif"],
      ["file", null, "../x/B04.tif"],
    ], JSON.stringify(links));
  }
  deepEqual(locationsOf(self("C:\\cat\\x.json"), ["B04.tif"]), [["file", null, "B04.tif"]]);
});

Deno.test("lockRowsOfItem() names the self link when a resolved href does not parse", () => {
  throws(
    () =>
      lockRowsOfItem({
        id: "i",
        links: self("gopher://b/x.json"),
        assets: { k: { href: "a.tif" } },
      }),
    /^TypeError: Item "i", asset "k" \(relative to its self link "gopher:\/\/b\/x.json"\): Unknown store type "gopher"/,
  );
});

Deno.test("lockRowsOfItem() resolves relative hrefs against https self links as new URL() does", () => {
  const selves = [
    "https://h/cat/items/x.json",
    "https://h/x.json?sig=1#f",
    "https://h",
    "HTTP://H:8080/a/",
  ];
  const hrefs = [
    "a.tif",
    "./a.tif",
    "././a/b.tif",
    "a//b.tif",
    ".hidden.tif",
    "a/./b.tif",
    "a/../b.tif",
    "..",
    "./",
    "a/",
    "a:b.tif",
    "./a:b.tif",
    "%2e%2e/a.tif",
    "a.tif?x=1",
    "a.tif#f",
    "é.tif",
    "a\\b.tif",
    "a\tb.tif",
    "_~!$&'()*+,;=@-.tif",
  ];
  for (const href of selves) {
    for (const rel of hrefs) {
      const [row] = lockRowsOfItem({ id: "i", links: self(href), assets: { k: { href: rel } } });
      const { store_type, store_container, store_endpoint_url, key } = row!;
      deepEqual(
        { store_type, store_container, store_endpoint_url, key },
        parseHref(new URL(rel, href).href),
        `${rel} against ${href}`,
      );
    }
  }
});

Deno.test("isRelativeHref() agrees with the scheme and absolute-path patterns", () => {
  const hrefs = [
    "",
    "a",
    "./a",
    "../a",
    "/a",
    "//h/a",
    "a:b",
    "C:\\x",
    "c:/x",
    "s3://b/k",
    "S3://b/k",
    "h+t.t-p://x",
    "1a:b",
    "a b:c",
    "a/b:c",
    "-a:b",
    "é:x",
    "ab",
    "ab:",
    "@:x",
    "[x:y",
    "`a:b",
    "{a:b",
    "a@b:c",
    "a_b:c",
    "\ud800:x",
  ];
  for (const href of hrefs) {
    const expected = !href.startsWith("/") && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href);
    deepEqual(isRelativeHref(href), expected, href);
  }
});

Deno.test("lockRowsOfItems() gives each item's rows in order, across alternating origins", () => {
  const items = [
    {
      id: "a",
      assets: { x: { href: "https://h.example/a.tif" }, y: { href: "http://h.example/b" } },
    },
    {
      id: "b",
      assets: { x: { href: "https://h.example.org/a" }, y: { href: "https://h.example/c" } },
    },
    {
      id: "c",
      assets: { x: { href: "https://h.exampl/a" }, metadata: { href: "https://h/m.xml" } },
    },
    {
      id: "d",
      assets: { x: { href: "./rel.tif" } },
      links: [{ rel: "self", href: "s3://b/d/item.json" }],
    },
  ];
  const rows = lockRowsOfItems(items);
  deepEqual(rows, items.flatMap((item) => lockRowsOfItem(item)));
  deepEqual(rows.map((r) => [r.item_id, r.store_type, r.store_container, r.key]), [
    ["a", "https", "https://h.example", "a.tif"],
    ["a", "http", "http://h.example", "b"],
    ["b", "https", "https://h.example.org", "a"],
    ["b", "https", "https://h.example", "c"],
    ["c", "https", "https://h.exampl", "a"],
    ["d", "s3", "b", "d/rel.tif"],
  ]);
  deepEqual(lockRowsOfItems(items, { assetKeys: ["metadata"] }).map((r) => r.item_id), ["c"]);
});
