// uvu's API (suite, test, exec) with each test's outcome appended as one JSON line to
// env VIRTIO_TEST_RESULTS: {file, name, status: passed|failed|skipped, ms, message, type,
// details, logs}. For a failed test, the console logs of the boards it used (virtio-xs/hil
// lists them in a global registry) are written to env VIRTIO_TEST_LOG_DIR. Tests that never
// finish (a hook threw, the run was stopped) are recorded as failed when the process exits.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as uvu from "uvu";

export const exec = uvu.exec;
const RESULTS = process.env.VIRTIO_TEST_RESULTS;
const LOG_DIR = process.env.VIRTIO_TEST_LOG_DIR;
const DIR_LABEL = process.env.VIRTIO_TEST_DIR_LABEL ?? "";
const BOARDS = Symbol.for("virtio-xs.hil.boards");

const pending = new Set(); // queued to run, not finished: {file, name, reason}

function emit(record) {
  if (RESULTS) appendFileSync(RESULTS, JSON.stringify(record) + "\n");
}

/** The suite file being loaded: uvu's runner puts its name first in the current queue group. */
function currentFile() {
  const group = globalThis.UVU_QUEUE?.[globalThis.UVU_INDEX ?? 0];
  const name = Array.isArray(group) && typeof group[0] === "string" ? group[0] : "unknown";
  return DIR_LABEL ? `${DIR_LABEL}/${name}` : name;
}

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 80) || "test";

/** Writes the console logs of the boards alive since `t0`; returns the file names. */
function saveBoardLogs(file, name, t0) {
  const boards = (globalThis[BOARDS] ?? []).filter((b) => b.closedAt === null || b.closedAt >= t0);
  if (!LOG_DIR || boards.length === 0) return [];
  mkdirSync(LOG_DIR, { recursive: true });
  const base = `${slug(file.split("/").pop().replace(/\.test\.[cm]?[jt]s$/, ""))}--${slug(name)}`;
  return boards.map((b) => {
    const fileName = boards.length === 1 ? `${base}.log` : `${base}--${slug(b.name)}.log`;
    let text;
    try { text = b.log(); } catch (e) { text = `(log unavailable: ${e.message})`; }
    writeFileSync(join(LOG_DIR, fileName), text);
    return fileName;
  });
}

/** Forgets boards closed before `t`: no test starting now can have used them. */
function pruneBoards(t) {
  const list = globalThis[BOARDS];
  if (!list) return;
  for (let i = list.length - 1; i >= 0; i--) if (list[i].closedAt !== null && list[i].closedAt < t) list.splice(i, 1);
}

function describe(e) {
  if (!(e instanceof Error)) return { message: String(e), type: "Error", details: String(e) };
  let details = e.stack ?? String(e);
  let message = e.message;
  if (String(e.name).startsWith("Assertion") && ("expects" in e || "expected" in e || "actual" in e)) {
    // uvu/assert's Assertion: expects, actual, operator (node:assert's: expected).
    const show = (v) => { try { return typeof v === "string" ? v : JSON.stringify(v); } catch { return String(v); } };
    details = `expected: ${show(e.expects ?? e.expected)}\nactual:   ${show(e.actual)}\n${details}`;
    if (e.operator) message = `${message} (${e.operator})`;
  }
  return { message, type: e.name, details };
}

export function suite(suiteName = "", state = {}) {
  const inner = uvu.suite(suiteName, state);
  let batch = { tests: [], only: [] }; // what the next run() queues

  const wrap = (entry, handler) => async (ctx) => {
    const t0 = performance.now();
    pruneBoards(t0);
    try {
      await handler(ctx);
    } catch (e) {
      pending.delete(entry);
      emit({ file: entry.file, suite: suiteName, name: entry.name, status: "failed", ms: performance.now() - t0, ...describe(e), logs: saveBoardLogs(entry.file, entry.name, t0) });
      throw e;
    }
    pending.delete(entry);
    emit({ file: entry.file, suite: suiteName, name: entry.name, status: "passed", ms: performance.now() - t0 });
  };
  const register = (list, realFn) => (name, handler) => {
    const entry = { file: currentFile(), name: String(name), reason: null };
    list().push(entry);
    realFn(name, wrap(entry, handler));
  };
  const t = register(() => batch.tests, inner);
  t.only = register(() => batch.only, inner.only);
  t.skip = (name) => {
    emit({ file: currentFile(), suite: suiteName, name: String(name ?? "(skipped)"), status: "skipped", ms: 0 });
    inner.skip(name);
  };
  const hook = (realHook, label) => (fn) => {
    const mine = batch;
    realHook(async (ctx) => {
      try {
        await fn(ctx);
      } catch (e) {
        for (const q of mine.only.length ? mine.only : mine.tests) q.reason ??= `the ${label} hook failed: ${e?.message ?? e}`;
        throw e;
      }
    });
  };
  t.before = hook(inner.before, "before");
  t.before.each = hook(inner.before.each, "before.each");
  t.after = inner.after;
  t.after.each = inner.after.each;
  t.run = () => {
    // uvu runs the `only` tests when there are any, else all of them.
    for (const q of batch.only.length ? batch.only : batch.tests) pending.add(q);
    batch = { tests: [], only: [] };
    inner.run();
  };
  return t;
}

export const test = suite();

process.on("exit", () => {
  for (const q of pending) {
    emit({ file: q.file, name: q.name, status: "failed", ms: 0, type: "NotFinished",
      message: q.reason ?? "did not finish: the run was stopped, or a hook failed", details: "", logs: saveBoardLogs(q.file, q.name, 0) });
  }
  pending.clear();
});
