import { createHash } from "node:crypto";
import { equal, rejects, throws } from "node:assert/strict";
import { ChecksumMismatchError, HashStream, isMd5Etag, sha256HexOf } from "./hash_stream.ts";

const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
const sha = createHash("sha256").update(bytes).digest("hex");
const md5 = createHash("md5").update(bytes).digest("hex");

function source(): ReadableStream<Uint8Array> {
  return new Blob([bytes.subarray(0, 1000), bytes.subarray(1000)]).stream();
}

Deno.test("HashStream computes SHA-256 and MD5 of the bytes as they pass", async () => {
  const hash = new HashStream({ md5: true });
  let passed = 0;
  await source().pipeThrough(hash).pipeTo(
    new WritableStream({ write: (c) => void (passed += c.byteLength) }),
  );
  const digest = await hash.digest;
  equal(passed, bytes.byteLength);
  equal(digest.sha256, sha);
  equal(digest.md5, md5);
  equal(digest.size, bytes.byteLength);
});

Deno.test("HashStream errors instead of closing on a checksum mismatch", async () => {
  const hash = new HashStream({ expected: { sha256: "1220" + "0".repeat(64) }, key: "k" });
  let closed = false;
  await rejects(
    source().pipeThrough(hash).pipeTo(new WritableStream({ close: () => void (closed = true) })),
    ChecksumMismatchError,
  );
  equal(closed, false);
  await rejects(hash.digest, /sha256 mismatch: expected 0{64}, actual [0-9a-f]{64} for "k"/);
  equal(hash.mismatch?.kind, "sha256");
});

Deno.test("HashStream errors at once when the bytes overrun the expected size", async () => {
  const hash = new HashStream({ expected: { size: 10 } });
  await rejects(
    source().pipeThrough(hash).pipeTo(new WritableStream()),
    /size mismatch: expected 10, actual more than 10/,
  );
});

Deno.test("HashStream errors on a short body and on an MD5 mismatch", async () => {
  const short = new HashStream({ expected: { size: bytes.byteLength + 1 } });
  await rejects(
    source().pipeThrough(short).pipeTo(new WritableStream()),
    /size mismatch: expected 300001, actual 300000/,
  );
  const wrongMd5 = new HashStream({ expected: { md5: "0".repeat(32) } });
  await rejects(source().pipeThrough(wrongMd5).pipeTo(new WritableStream()), /md5 mismatch/);
  const right = new HashStream({
    expected: { md5: `"${md5}"`, sha256: sha, size: bytes.byteLength },
  });
  await source().pipeThrough(right).pipeTo(new WritableStream());
  equal((await right.digest).md5, md5);
});

Deno.test("sha256HexOf() throws SyntaxError for what is not a SHA-256", () => {
  throws(() => sha256HexOf("abc"), /Invalid checksum "abc"/);
  equal(sha256HexOf("1220" + "A".repeat(64)), "a".repeat(64));
});

Deno.test("isMd5Etag() tells plain MD5 ETags from multipart and file ETags", () => {
  equal(isMd5Etag(md5), true);
  equal(isMd5Etag(`"${md5}"`), true);
  equal(isMd5Etag(`${md5}-3`), false);
  equal(isMd5Etag("1a2b-5f3c-10"), false);
  equal(isMd5Etag(undefined), false);
});
