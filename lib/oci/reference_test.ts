import { deepEqual, equal, throws } from "node:assert/strict";
import { formatReference, parseReference } from "./reference.ts";

Deno.test("parseReference() reads hosts, ports, nested repositories, tags and digests", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  deepEqual(parseReference("oci://localhost/a/b/c"), {
    registry: "localhost",
    repository: "a/b/c",
    tag: "latest",
    digest: undefined,
  });
  deepEqual(parseReference(`oci://reg.example:443/a_b/c-d:v1.0@${digest}`), {
    registry: "reg.example:443",
    repository: "a_b/c-d",
    tag: "v1.0",
    digest,
  });
  deepEqual(parseReference(`oci://[::1]:5000/x@${digest}`).tag, undefined);
  equal(formatReference(parseReference("oci://h:1/r:t")), "oci://h:1/r:t");
});

Deno.test("parseReference() names the input and the character where it goes wrong", () => {
  const cases: [string, string][] = [
    [
      "docker://h/r",
      'Invalid OCI reference "docker://h/r": expected it to start with "oci://" (character 1)',
    ],
    ["oci://h", 'Invalid OCI reference "oci://h": missing repository after the host (character 8)'],
    ["oci:///r", 'Invalid OCI reference "oci:///r": missing registry host (character 7)'],
    ["oci://h/a/B", "character 11"],
    ["oci://h/a:-x", 'tag "-x"'],
    ["oci://h/a@sha256:xyz", 'digest "sha256:xyz"'],
    ["oci://h_x/a", 'registry "h_x" is not a host[:port]'],
    ["oci://h/a//b", 'repository part ""'],
  ];
  for (const [input, message] of cases) {
    throws(
      () => parseReference(input),
      (e: Error) => e instanceof SyntaxError && e.message.includes(message),
      input,
    );
  }
});
