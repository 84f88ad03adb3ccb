/** Runs the ferry CLI in-process with captured standard streams. */
import { equal, match, notEqual } from "node:assert/strict";
import { main } from "../cli.ts";
import { streamOf } from "../lib/stores/ext.ts";
import { clearStoreCache } from "../lib/stores/registry.ts";
import { itemsFromIpc } from "../lib/stac/ipc.ts";
import type { StacItem } from "../lib/stac/item.ts";

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

function capture(): { stream: WritableStream<Uint8Array>; bytes: () => Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    stream: new WritableStream({ write: (chunk) => void parts.push(chunk.slice()) }),
    bytes: () => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.byteLength;
      }
      return out;
    },
  };
}

/**
 * Runs `ferry ARGS` in this process.
 *
 * @param args The arguments.
 * @param stdin Bytes or text for standard input.
 * @param options `terminal`: pretend stdout is a terminal (previews).
 * @returns Exit code and output.
 */
export async function runCli(
  args: string[],
  stdin?: Uint8Array | string,
  options: { terminal?: boolean } = {},
): Promise<CliResult> {
  const out = capture();
  const err = capture();
  const input = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const code = await main(args, {
    stdin: streamOf(input ?? new Uint8Array()),
    stdout: out.stream,
    stderr: err.stream,
    stdoutIsTerminal: options.terminal ?? false,
    stderrIsTerminal: false,
  });
  const stdoutBytes = out.bytes();
  return {
    code,
    stdout: new TextDecoder().decode(stdoutBytes),
    stderr: new TextDecoder().decode(err.bytes()),
    stdoutBytes,
  };
}

/** A CLI run with stdout as bytes (Arrow IPC between commands) and as text. */
export interface CliBytesResult {
  code: number;
  stdout: Uint8Array;
  text: string;
  stderr: string;
}

/**
 * Runs `ferry ARGS` in this process, for tests that pipe one command's
 * stdout bytes into the next.
 *
 * @param args The arguments.
 * @param stdin Bytes for standard input.
 * @param terminal Pretend stdout is a terminal (previews).
 * @returns Exit code, stdout as bytes and text, stderr.
 */
export async function runCliBytes(
  args: string[],
  stdin: Uint8Array = new Uint8Array(),
  terminal = false,
): Promise<CliBytesResult> {
  const r = await runCli(args, stdin, { terminal });
  return { code: r.code, stdout: r.stdoutBytes, text: r.stdout, stderr: r.stderr };
}

/**
 * Runs `fn` with a fresh temporary folder, removed afterwards.
 *
 * @param fn The test body.
 * @returns When `fn` is done and the folder is gone.
 */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The items a successful run wrote to stdout as Arrow IPC. */
export async function itemsOf(r: CliBytesResult): Promise<StacItem[]> {
  equal(r.code, 0, r.stderr);
  return (await Array.fromAsync(
    itemsFromIpc(new Blob([r.stdout as Uint8Array<ArrayBuffer>]).stream()),
  )).flat();
}

/** A failed run: non-zero exit, nothing on stdout, one line on stderr matching `pattern`. */
export function failedOnce(r: CliBytesResult, pattern: RegExp): void {
  notEqual(r.code, 0);
  equal(r.stdout.byteLength, 0, "nothing on stdout");
  equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  match(r.stderr.trimEnd(), pattern);
}

/** Runs `fn` with environment variables set (undefined: unset), the store cache cleared around it. */
export async function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
    clearStoreCache();
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}
