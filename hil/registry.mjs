// Every board's console log, kept where a test runner can find it without importing the
// library: globalThis[Symbol.for("virtio-xs.hil.boards")] is a list of
// {name, createdAt, closedAt, log()} (times from performance.now()). tools/test.mjs's
// recorder writes the logs of the boards a failed test used beside the JUnit report.
const KEY = Symbol.for("virtio-xs.hil.boards");

/** The process-wide list (made on first use). */
export function boardRecords() {
  globalThis[KEY] ??= [];
  return globalThis[KEY];
}

/** Adds a board's record; returns it so the board can set `closedAt`. */
export function registerBoard(name, log) {
  const record = { name, createdAt: performance.now(), closedAt: null, log };
  const list = boardRecords();
  list.push(record);
  // Bounded: closed boards beyond the last 64 are forgotten (their logs with them).
  const closed = list.filter((r) => r.closedAt !== null);
  if (closed.length > 64) for (const r of closed.slice(0, closed.length - 64)) list.splice(list.indexOf(r), 1);
  return record;
}
