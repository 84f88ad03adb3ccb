import { equal, match, ok } from "node:assert/strict";
import { MemoryStore } from "../stores/memory.ts";
import { Progress } from "./progress.ts";
import type { TransferResult } from "../pipeline/transfer.ts";

function sink(): { stream: WritableStream<Uint8Array>; text: () => string } {
  let text = "";
  const decoder = new TextDecoder();
  return {
    stream: new WritableStream({ write: (b) => void (text += decoder.decode(b)) }),
    text: () => text,
  };
}

const store = new MemoryStore({ name: "p" });
const result = (status: TransferResult["status"], error?: Error): TransferResult => ({
  task: { source: { store, key: "a" }, destination: { store, key: "b" } },
  status,
  size: 10,
  attempts: 2,
  error,
});

Deno.test("Progress draws objects, bytes, rate and ETA on a terminal", async () => {
  let now = 0;
  const err = sink();
  const progress = new Progress({
    stderr: err.stream,
    stderrIsTerminal: true,
    now: () => now,
    intervalMs: 100,
  });
  progress.expect(4, 4096);
  now = 1000;
  progress.handle({ type: "bytes", bytes: 1024 });
  progress.handle({ type: "done", result: result("copied") });
  equal(progress.line(), "1/4 objects, 1.0 KiB/4.0 KiB, 1.0 KiB/s, ETA 3s");
  progress.handle({ type: "done", result: result("failed", new Error("boom")) });
  await progress.close();
  ok(err.text().includes("\r\u001b[K2/4 objects"), JSON.stringify(err.text()));
  match(err.text(), /1 failed\n$/);
});

Deno.test("Progress writes nothing on stderr when it is not a terminal, and JSON lines for machines", async () => {
  const err = sink();
  const out = sink();
  const progress = new Progress({ stderr: err.stream, stderrIsTerminal: false, json: out.stream });
  progress.handle({ type: "bytes", bytes: 10 });
  progress.handle({ type: "done", result: result("copied") });
  progress.handle({
    type: "done",
    result: result("failed", new Error("size mismatch: expected 1, actual 2")),
  });
  await progress.close();
  equal(err.text(), "");
  const lines = out.text().trim().split("\n").map((l) => JSON.parse(l));
  equal(lines.length, 3);
  equal(lines[0].event, "object");
  equal(lines[0].status, "copied");
  equal(lines[0].attempts, 2);
  equal(lines[1].error, "size mismatch: expected 1, actual 2");
  equal(lines[2].event, "summary");
  equal(lines[2].copied, 1);
  equal(lines[2].failed, 1);
  equal(lines[2].bytes, 10);
  ok(typeof lines[2].seconds === "number");
});
