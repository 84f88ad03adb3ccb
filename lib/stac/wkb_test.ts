import { deepEqual, equal, throws } from "node:assert/strict";
import type { GeoJSON } from "./item.ts";
import { geometryBbox, geometryToWkb, wkbToGeometry, wkbTypeName } from "./wkb.ts";

const square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]];
const geometries: GeoJSON[] = [
  { type: "Point", coordinates: [1.5, -2.25] },
  { type: "Point", coordinates: [1, 2, 3] },
  { type: "LineString", coordinates: [[0, 0], [1, 1], [2, 0]] },
  { type: "LineString", coordinates: [[0, 0, 5], [1, 1, 6]] },
  { type: "Polygon", coordinates: square },
  { type: "Polygon", coordinates: [[[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]]] },
  { type: "MultiPoint", coordinates: [[0, 0], [3, 4]] },
  { type: "MultiLineString", coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3]]] },
  { type: "MultiPolygon", coordinates: [square, [[[5, 5], [6, 5], [6, 6], [5, 5]]]] },
  {
    type: "GeometryCollection",
    geometries: [{ type: "Point", coordinates: [1, 2] }, {
      type: "LineString",
      coordinates: square[0]!,
    }],
  },
  { type: "MultiPolygon", coordinates: [] },
];

Deno.test("geometryToWkb() and wkbToGeometry() round-trip every geometry type, with and without z", () => {
  for (const g of geometries) deepEqual(wkbToGeometry(geometryToWkb(g)!), g, g.type);
});

Deno.test("geometryToWkb() writes ISO WKB little-endian with 1000-series z codes", () => {
  const wkb = geometryToWkb({ type: "Point", coordinates: [1, 2, 3] })!;
  equal(wkb[0], 1);
  equal(new DataView(wkb.buffer).getUint32(1, true), 1001);
  equal(wkb.byteLength, 5 + 24);
  equal(wkbTypeName(wkb), "Point Z");
  equal(wkbTypeName(geometryToWkb({ type: "Polygon", coordinates: square })!), "Polygon");
});

Deno.test("geometryToWkb() returns undefined for mixed 2D/3D coordinates", () => {
  equal(geometryToWkb({ type: "LineString", coordinates: [[0, 0], [1, 1, 1]] }), undefined);
});

Deno.test("wkbToGeometry() reads big-endian and EWKB z", () => {
  const be = new Uint8Array(5 + 24);
  const v = new DataView(be.buffer);
  be[0] = 0;
  v.setUint32(1, 0x80000001, false);
  v.setFloat64(5, 1, false);
  v.setFloat64(13, 2, false);
  v.setFloat64(21, 3, false);
  deepEqual(wkbToGeometry(be), { type: "Point", coordinates: [1, 2, 3] });
});

Deno.test("wkbToGeometry() throws RangeError on truncated or unknown WKB", () => {
  const wkb = geometryToWkb({ type: "Polygon", coordinates: square })!;
  throws(() => wkbToGeometry(wkb.subarray(0, 20)), RangeError);
  throws(() => wkbToGeometry(new Uint8Array([1, 99, 0, 0, 0])), RangeError);
});

Deno.test("geometryBbox() spans nested coordinates", () => {
  deepEqual(geometryBbox(geometries[8]!), [0, 0, 6, 6]);
  equal(geometryBbox({ type: "MultiPolygon", coordinates: [] }), undefined);
});
