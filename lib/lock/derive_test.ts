import { deepEqual, throws } from "node:assert/strict";
import { lockRowsOfItem } from "./derive.ts";
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
