/**
 * A `fetch` that does not verify TLS certificates (`--insecure`): Deno's
 * `fetch` cannot skip verification per request, `node:https` can. Plain
 * `http:` URLs go to the ordinary `fetch`.
 *
 * @module
 */
import { request } from "node:https";
import { Readable } from "node:stream";

const MAX_REDIRECTS = 5;

/**
 * `fetch` over `node:https` with certificate verification off. Bodies stream
 * both ways; GET and HEAD follow up to 5 redirects (dropping `Authorization`
 * when the origin changes); transport failures reject with a `TypeError`,
 * as `fetch` does.
 *
 * @example Plain HTTP goes to fetch (network, not run)
 * ```ts ignore
 * import { insecureFetch } from "./insecure_fetch.ts";
 * const response = await insecureFetch("https://127.0.0.1:5443/v2/");
 * console.log(response.status);
 * ```
 *
 * @param input The URL.
 * @param init Method, headers, body, signal.
 * @returns The response.
 */
export async function insecureFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  let url = new URL(input instanceof Request ? input.url : input);
  if (url.protocol !== "https:") return await fetch(input, init);
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  for (let hop = 0;; hop++) {
    const response = await once(url, method, headers, init.body ?? null, init.signal ?? undefined);
    const location = response.headers.get("location");
    const redirect = [301, 302, 303, 307, 308].includes(response.status);
    if (!redirect || !location || (method !== "GET" && method !== "HEAD") || hop >= MAX_REDIRECTS) {
      return response;
    }
    await response.body?.cancel();
    const next = new URL(location, url);
    if (next.origin !== url.origin) headers.delete("authorization");
    url = next;
    if (url.protocol !== "https:") {
      return await fetch(url, { method, headers, signal: init.signal ?? null });
    }
  }
}

function once(
  url: URL,
  method: string,
  headers: Headers,
  body: BodyInit | null,
  signal: AbortSignal | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers: Object.fromEntries(headers), rejectUnauthorized: false },
      (res) => {
        const status = res.statusCode ?? 0;
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
        }
        const empty = method === "HEAD" || status === 204 || status === 304;
        if (empty) res.resume();
        const stream = empty ? null : Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
        resolve(new Response(stream, { status, headers: out }));
      },
    );
    req.on("error", (error) => {
      reject(new TypeError(`error sending request: ${error.message}`, { cause: error }));
    });
    signal?.addEventListener("abort", () => req.destroy(signal.reason), { once: true });
    if (body === null) req.end();
    else if (body instanceof ReadableStream) {
      Readable.fromWeb(body as import("node:stream/web").ReadableStream).pipe(req);
    } else if (body instanceof Uint8Array || typeof body === "string") req.end(body);
    else reject(new TypeError("insecureFetch: unsupported body type"));
  });
}
