/**
 * A loopback HTTP/1.1 proxy that injects faults between a client and a real
 * server, for tests: `503` answers with `Retry-After: 1`, uploads reset
 * mid-body, response bodies cut short with their `Content-Length` kept.
 *
 * It works on raw TCP, so a reset is a real connection close with unread
 * bytes (the kernel answers with RST) and a truncation is a real early close.
 * Every request gets its own upstream connection (`Connection: close` both
 * ways), which keeps the bookkeeping exact. The `Host` header is forwarded
 * unchanged (S3 signs it); `X-Storage-Url` in answers (Swift TempAuth) is
 * rewritten to point at the proxy, so the client keeps going through it.
 *
 * Faults are deterministic for a seed: whether the n-th request with a given
 * method and target gets a fault depends only on the seed, the method, the
 * target and n, not on how concurrent requests interleave.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The kinds of fault the proxy injects. */
export type FaultKind = "status503" | "resetUpload" | "truncateBody";

/** The fault kinds, in the order they are drawn. */
export const FAULT_KINDS: readonly FaultKind[] = ["status503", "resetUpload", "truncateBody"];

/** Probability (0 to 1) of each fault kind. */
export interface FaultRates {
  /** Any request: answered `503` with `Retry-After: 1`, never forwarded. @default 0 */
  status503?: number;
  /** A request with a body (PUT/POST): the connection is reset mid-body. @default 0 */
  resetUpload?: number;
  /** A response with a body: closed after part of it, `Content-Length` kept. @default 0 */
  truncateBody?: number;
}

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The real server, e.g. `http://127.0.0.1:8080`. */
  upstream: string;
  /** Seed of the fault draws. @default 1 */
  seed?: number;
  /** How often each fault happens. @default no faults */
  rates?: FaultRates;
  /** Port to listen on (127.0.0.1). @default 0 (any free port) */
  port?: number;
  /** Only requests for which this returns true may get a fault. @default every request */
  filter?: (request: { method: string; target: string }) => boolean;
  /**
   * What identifies a request for the draws (e.g. the target with a unique
   * container name replaced), so runs with fresh names get the same faults.
   * @default the target as sent
   */
  drawKey?: (target: string) => string;
  /**
   * Response headers removed from answers to these methods, as a careless
   * intermediary does (e.g. `Content-Length` of HEAD answers).
   * @default none
   */
  dropResponseHeaders?: { methods: readonly string[]; names: readonly string[] };
}

/** One injected fault. */
export interface FaultEvent {
  /** What was done. */
  kind: FaultKind;
  /** The request's method. */
  method: string;
  /** The request target (path and query). */
  target: string;
  /** Body bytes that got through before the cut (0 for a 503). */
  bytesBeforeCut: number;
}

/** What the proxy saw and did. */
export interface FaultProxyStats {
  /** Requests received, by method. */
  requests: Record<string, number>;
  /** Faults injected, by kind, then by method. */
  faults: Record<FaultKind, Record<string, number>>;
  /** Every fault injected, in order. */
  events: FaultEvent[];
  /** Every request in arrival order, with the status it got (0: none) and its fault. */
  log: { method: string; target: string; status: number; fault?: FaultKind }[];
}

/** A running proxy. */
export interface FaultProxy {
  /** The proxy's origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Live counters. */
  stats: FaultProxyStats;
  /**
   * Faults of one kind injected so far (all methods).
   *
   * @param kind The kind.
   * @returns The count.
   */
  count(kind: FaultKind): number;
  /** Stops listening, closes every connection and waits for the handlers. */
  close(): Promise<void>;
}

const HEAD_LIMIT = 64 * 1024;
const CRLF2 = new Uint8Array([13, 10, 13, 10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Starts a fault-injecting proxy in front of `upstream`.
 *
 * @example Through the proxy, no faults
 * ```ts ignore
 * import { startFaultProxy } from "./fault_proxy.ts";
 * const proxy = await startFaultProxy({ upstream: "http://127.0.0.1:8080", seed: 7 });
 * await (await fetch(`${proxy.url}/info`)).json();
 * await proxy.close();
 * ```
 *
 * @param options Upstream, seed, rates, port.
 * @returns The running proxy.
 */
export function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== "http:") {
    throw new TypeError(`Invalid upstream "${options.upstream}": only http:// is proxied`);
  }
  const rates = options.rates ?? {};
  for (const kind of FAULT_KINDS) {
    const rate = rates[kind] ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`Invalid rate ${kind} ${rate}`);
  }
  const seed = options.seed ?? 1;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const stats: FaultProxyStats = {
    requests: {},
    faults: { status503: {}, resetUpload: {}, truncateBody: {} },
    events: [],
    log: [],
  };
  const occurrences = new Map<string, number>();
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();

  const record = (event: FaultEvent, entry: Draw["entry"]) => {
    entry.fault = event.kind;
    const byMethod = stats.faults[event.kind];
    byMethod[event.method] = (byMethod[event.method] ?? 0) + 1;
    stats.events.push(event);
  };

  const context: ProxyContext = {
    upstream,
    dropResponseHeaders: options.dropResponseHeaders,
    proxyOrigin: url,
    draw(method, target) {
      const id = `${method} ${options.drawKey?.(target) ?? target}`;
      const n = occurrences.get(id) ?? 0;
      occurrences.set(id, n + 1);
      stats.requests[method] = (stats.requests[method] ?? 0) + 1;
      const eligible = options.filter?.({ method, target }) ?? true;
      const roll = (kind: FaultKind) => unitHash(`${seed}\n${kind}\n${id}\n${n}`);
      const entry = { method, target, status: 0 };
      stats.log.push(entry);
      return {
        entry,
        status503: eligible && roll("status503") < (rates.status503 ?? 0),
        resetUpload: eligible && roll("resetUpload") < (rates.resetUpload ?? 0),
        truncateBody: eligible && roll("truncateBody") < (rates.truncateBody ?? 0),
        // Where a cut falls: a quarter to three quarters into the body.
        cutFraction: 0.25 + unitHash(`${seed}\ncut\n${id}\n${n}`) / 2,
      };
    },
    record,
    track(conn) {
      conns.add(conn);
      return () => conns.delete(conn);
    },
  };

  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      const done = context.track(conn);
      const handler = handleConnection(conn, context).catch(() => {}).finally(() => {
        closeQuietly(conn);
        done();
        handlers.delete(handler);
      });
      handlers.add(handler);
    }
  })();

  return Promise.resolve({
    url,
    stats,
    count: (kind) => Object.values(stats.faults[kind]).reduce((a, b) => a + b, 0),
    async close() {
      closeQuietly(listener);
      await accepting;
      for (const conn of conns) closeQuietly(conn);
      await Promise.all([...handlers]);
    },
  });
}

interface Draw {
  entry: FaultProxyStats["log"][number];
  status503: boolean;
  resetUpload: boolean;
  truncateBody: boolean;
  cutFraction: number;
}

interface ProxyContext {
  upstream: URL;
  dropResponseHeaders: FaultProxyOptions["dropResponseHeaders"];
  proxyOrigin: string;
  draw(method: string, target: string): Draw;
  record(event: FaultEvent, entry: Draw["entry"]): void;
  track(conn: Deno.Conn): () => void;
}

/** A parsed request or response head. */
interface Head {
  /** The first line. */
  start: string;
  /** Header lines, as received. */
  headers: [string, string][];
}

/** Reads from a connection, keeping what was read past a head. */
class ConnReader {
  readonly conn: Deno.Conn;
  #buffered: Uint8Array = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** The next bytes (buffered first), or null at the end. */
  async read(): Promise<Uint8Array | null> {
    if (this.#buffered.byteLength > 0) {
      const out = this.#buffered;
      this.#buffered = new Uint8Array(0);
      return out;
    }
    const buffer = new Uint8Array(64 * 1024);
    const n = await this.conn.read(buffer);
    return n === null ? null : buffer.subarray(0, n);
  }

  /** Puts bytes back to be read again. */
  unread(bytes: Uint8Array): void {
    this.#buffered = concat(bytes, this.#buffered);
  }

  /** Reads one head (up to the blank line), or null when the peer closed first. */
  async readHead(): Promise<Head | null> {
    let data: Uint8Array = new Uint8Array(0);
    for (;;) {
      const at = indexOf(data, CRLF2);
      if (at !== -1) {
        this.unread(data.subarray(at + 4));
        const lines = decoder.decode(data.subarray(0, at)).split("\r\n");
        const headers = lines.slice(1).map((line): [string, string] => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        });
        return { start: lines[0] ?? "", headers };
      }
      if (data.byteLength > HEAD_LIMIT) throw new RangeError("Head too large");
      const more = await this.read();
      if (more === null) return null;
      data = concat(data, more);
    }
  }
}

function header(head: Head, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

function withHeaders(head: Head, set: Record<string, string>, drop: string[] = []): Uint8Array {
  const replaced = new Set([...Object.keys(set), ...drop].map((n) => n.toLowerCase()));
  const lines = [head.start];
  for (const [name, value] of head.headers) {
    if (!replaced.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  for (const [name, value] of Object.entries(set)) lines.push(`${name}: ${value}`);
  return encoder.encode(lines.join("\r\n") + "\r\n\r\n");
}

async function handleConnection(client: Deno.Conn, context: ProxyContext): Promise<void> {
  const fromClient = new ConnReader(client);
  const request = await fromClient.readHead();
  if (!request) return;
  const [method = "", target = ""] = request.start.split(" ");
  const draw = context.draw(method, target);
  const contentLength = Number(header(request, "content-length") ?? 0);
  const chunked = /chunked/i.test(header(request, "transfer-encoding") ?? "");
  const hasBody = chunked || contentLength > 0;

  if (draw.status503) {
    context.record({ kind: "status503", method, target, bytesBeforeCut: 0 }, draw.entry);
    draw.entry.status = 503;
    await answer503(client, fromClient, request, contentLength);
    return;
  }

  const upstream = await Deno.connect({
    hostname: context.upstream.hostname,
    port: Number(context.upstream.port || 80),
  });
  const untrack = context.track(upstream);
  try {
    await writeAll(
      upstream,
      withHeaders(request, { Connection: "close" }, ["keep-alive", "proxy-connection"]),
    );
    const reset = draw.resetUpload && hasBody
      ? (chunked ? 64 * 1024 : Math.floor(contentLength * draw.cutFraction))
      : undefined;
    const uploading = pumpRequestBody(fromClient, upstream, reset).then((cut) => {
      if (cut === undefined) return;
      context.record({ kind: "resetUpload", method, target, bytesBeforeCut: cut }, draw.entry);
      // Unread bytes in the receive buffer make the kernel send a reset.
      closeQuietly(client);
      closeQuietly(upstream);
    });
    const answering = pumpResponse(
      new ConnReader(upstream),
      client,
      method,
      draw,
      context,
      target,
    );
    await answering.finally(() => closeQuietly(client));
    await uploading;
  } finally {
    closeQuietly(upstream);
    untrack();
  }
}

/** Answers 503 without asking upstream; drains a body of known length first. */
async function answer503(
  client: Deno.Conn,
  reader: ConnReader,
  request: Head,
  contentLength: number,
): Promise<void> {
  const expectsContinue = /100-continue/i.test(header(request, "expect") ?? "");
  if (!expectsContinue && !/chunked/i.test(header(request, "transfer-encoding") ?? "")) {
    let left = contentLength;
    while (left > 0) {
      const bytes = await reader.read();
      if (bytes === null) return;
      left -= bytes.byteLength;
    }
  }
  const body = "Service unavailable (injected by the test proxy)";
  await writeAll(
    client,
    encoder.encode(
      `HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    ),
  );
  // Let the client finish (and close) rather than resetting what it still sends.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 5000));
  try {
    while ((await Promise.race([reader.read().catch(() => null), deadline])) !== null) {
      // discarded
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Copies the client's bytes to upstream; with `cutAt`, stops after that many
 * body bytes and returns the count (undefined when the body ended first).
 */
async function pumpRequestBody(
  from: ConnReader,
  to: Deno.Conn,
  cutAt: number | undefined,
): Promise<number | undefined> {
  let sent = 0;
  try {
    for (;;) {
      const bytes = await from.read();
      if (bytes === null) return undefined;
      if (cutAt !== undefined && sent + bytes.byteLength >= cutAt) {
        await writeAll(to, bytes.subarray(0, cutAt - sent));
        return cutAt;
      }
      await writeAll(to, bytes);
      sent += bytes.byteLength;
    }
  } catch {
    return undefined;
  }
}

/** Copies upstream's answer to the client, rewriting its head and maybe cutting its body. */
async function pumpResponse(
  from: ConnReader,
  client: Deno.Conn,
  method: string,
  draw: Draw,
  context: ProxyContext,
  target: string,
): Promise<void> {
  let head: Head | null;
  // Interim answers (100 Continue) pass through as they are.
  for (;;) {
    head = await from.readHead();
    if (head === null) return;
    const status = Number(head.start.split(" ")[1]);
    if (status >= 200 || status === 101) break;
    await writeAll(client, withHeaders(head, {}));
  }
  const status = Number(head.start.split(" ")[1]);
  draw.entry.status = status;
  const set: Record<string, string> = { Connection: "close" };
  const storageUrl = header(head, "x-storage-url");
  if (storageUrl?.startsWith(context.upstream.origin)) {
    set["X-Storage-Url"] = context.proxyOrigin + storageUrl.slice(context.upstream.origin.length);
  }
  const drop = ["keep-alive"];
  if (context.dropResponseHeaders?.methods.includes(method)) {
    drop.push(...context.dropResponseHeaders.names);
  }
  await writeAll(client, withHeaders(head, set, drop));
  const length = header(head, "content-length");
  const bodiless = method === "HEAD" || status === 204 || status === 304 ||
    (length !== undefined && Number(length) === 0);
  let cutAt: number | undefined;
  if (draw.truncateBody && !bodiless) {
    cutAt = length === undefined ? 4096 : Math.floor(Number(length) * draw.cutFraction);
  }
  let sent = 0;
  for (;;) {
    const bytes = await from.read().catch(() => null);
    if (bytes === null) return;
    if (cutAt !== undefined && sent + bytes.byteLength >= cutAt) {
      await writeAll(client, bytes.subarray(0, cutAt - sent));
      context.record({ kind: "truncateBody", method, target, bytesBeforeCut: cutAt }, draw.entry);
      closeQuietly(client);
      return;
    }
    await writeAll(client, bytes);
    sent += bytes.byteLength;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}

function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // already closed
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  if (b.byteLength === 0) return a;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function indexOf(data: Uint8Array, pattern: Uint8Array): number {
  outer: for (let i = 0; i + pattern.byteLength <= data.byteLength; i++) {
    for (let j = 0; j < pattern.byteLength; j++) {
      if (data[i + j] !== pattern[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** A number in [0, 1) from a string, uniform and independent across near-identical strings. */
function unitHash(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0) / 2 ** 32;
}
