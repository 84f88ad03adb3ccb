import { equal, throws } from "node:assert/strict";
import { packageManifestBytes, parsePackageManifest, pythonJson } from "./manifest.ts";

Deno.test("pythonJson() writes what Python's json.dumps writes", () => {
  // json.dumps({"a": "\u00fc\x7f\n", "b": [1, {"c": None}]})
  equal(
    pythonJson({ a: "ü\x7f\n", b: [1, { c: null }] }),
    '{"a": "\\u00fc\\u007f\\n", "b": [1, {"c": null}]}',
  );
  throws(() => pythonJson(1.5), RangeError);
});

Deno.test("packageManifestBytes() writes stacpkg's manifest, key for key", () => {
  const layer = {
    mediaType: "text/plain",
    digest: `sha256:${"1".repeat(64)}`,
    size: 3,
    annotations: { "org.opencontainers.image.title": "a.txt" },
  };
  equal(
    new TextDecoder().decode(packageManifestBytes([layer])),
    '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", ' +
      '"artifactType": "application/vnd.stacpkg.package.v1+json", "config": {"mediaType": ' +
      '"application/vnd.oci.empty.v1+json", "digest": ' +
      '"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2}, ' +
      `"layers": [{"mediaType": "text/plain", "digest": "sha256:${"1".repeat(64)}", "size": 3, ` +
      '"annotations": {"org.opencontainers.image.title": "a.txt"}}]}',
  );
});

Deno.test("parsePackageManifest() names the field that is wrong", () => {
  const bad = (value: unknown, message: string) =>
    throws(
      () => parsePackageManifest(new TextEncoder().encode(JSON.stringify(value)), "oci://r/p"),
      (e: Error) => e instanceof SyntaxError && e.message.includes(message),
      message,
    );
  const config = { mediaType: "x", digest: `sha256:${"0".repeat(64)}`, size: 2 };
  bad({ schemaVersion: 1 }, "schemaVersion is 1, expected 2");
  bad({ schemaVersion: 2, config, layers: {} }, "layers is not a list");
  bad(
    { schemaVersion: 2, config, layers: [{ ...config, digest: "md5:x" }] },
    'layer 0 digest "md5:x"',
  );
  bad({ schemaVersion: 2, config, layers: [{ ...config, size: -1 }] }, 'layer 0 size "-1"');
  bad(
    { schemaVersion: 2, config, layers: [{ ...config, annotations: { t: 1 } }] },
    'annotation "t" is not a string',
  );
  throws(() => parsePackageManifest(new TextEncoder().encode("nope"), "oci://r/p"), /not JSON/);
});
