/**
 * A local HTTP server with the public object paths of Google Cloud Storage
 * (`/BUCKET/KEY`) and of an Azure account (`/ACCOUNT/CONTAINER/KEY`, as the
 * Azurite emulator serves it) over the files of a folder: HEAD, GET and
 * ranged GET with the status codes, `Content-Range`, quoted MD5 ETag and
 * `Last-Modified` the clouds send; a path under a `private/` folder answers
 * 403 to anonymous requests, as a non-public bucket does.
 */
import { createHash } from "node:crypto";

/** A running server. */
export interface PublicBucketServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** The folder served. */
  root: string;
  /** Writes an object: `path` is `BUCKET/KEY` (or `ACCOUNT/CONTAINER/KEY`), unencoded. */
  seed(path: string, bytes: Uint8Array): Promise<void>;
  /** The `x-ms-version` header of each request, in order (absent: null). */
  msVersions: (string | null)[];
  /** Stops the server and removes the folder. */
  close(): Promise<void>;
}

/**
 * Starts a server on a free port of 127.0.0.1.
 *
 * @returns The server.
 */
export async function startPublicBucketServer(): Promise<PublicBucketServer> {
  const root = await Deno.makeTempDir({ prefix: "ferry-public-bucket-" });
  const msVersions: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    msVersions.push(request.headers.get("x-ms-version"));
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("anonymous requests read only", { status: 403 });
    }
    const segments = new URL(request.url).pathname.slice(1).split("/").map(decodeURIComponent);
    if (segments.includes("private")) {
      return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
    }
    let bytes: Uint8Array;
    let info: Deno.FileInfo;
    try {
      const path = `${root}/${segments.join("/")}`;
      info = await Deno.stat(path);
      if (!info.isFile) throw new Deno.errors.NotFound();
      bytes = await Deno.readFile(path);
    } catch {
      return new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404 });
    }
    const headers = new Headers({
      "etag": `"${createHash("md5").update(bytes).digest("hex")}"`,
      "last-modified": info.mtime!.toUTCString(),
      "accept-ranges": "bytes",
      "content-type": "application/octet-stream",
    });
    const size = bytes.byteLength;
    const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") ?? "");
    let body = bytes;
    let status = 200;
    if (range && (range[1] !== "" || range[2] !== "")) {
      let start: number;
      let end: number;
      if (range[1] === "") {
        start = Math.max(0, size - Number(range[2]));
        end = size - 1;
      } else {
        start = Number(range[1]);
        end = range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
      }
      if (start >= size || end < start) {
        headers.set("content-range", `bytes */${size}`);
        return new Response(null, { status: 416, headers });
      }
      body = bytes.subarray(start, end + 1);
      status = 206;
      headers.set("content-range", `bytes ${start}-${end}/${size}`);
    }
    headers.set("content-length", String(body.byteLength));
    return new Response(request.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
      status,
      headers,
    });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    origin: `http://127.0.0.1:${port}`,
    root,
    msVersions,
    async seed(path, bytes) {
      const file = `${root}/${path}`;
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(file, bytes);
    },
    async close() {
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    },
  };
}
