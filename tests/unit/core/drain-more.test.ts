// drainQueue() stopping at its limit with entries still in the used ring: the re-check
// says "more", and no interrupt will come for entries already there (with EVENT_IDX the
// device only interrupts when used idx passes used_event). They are drained again from a
// promise job, not left for an unrelated interrupt.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { drainQueue } from "../../../drivers/virtio/drain.js";
import type { BufferRef, Completion, Virtqueue, VirtqueueStats } from "../../../ring/virtqueue.js";

/** An honest stub: enableInterrupts() says "more" exactly while entries are waiting. */
class ReadyQueue<T> implements Virtqueue<T> {
  readonly index = 0;
  readonly size = 8;
  readonly addresses = { size: 8, desc: 0x1000, driver: 0x2000, device: 0x3000 };
  readonly freeCount = 8;
  readonly inFlight = 0;
  broken: Error | null = null;
  readonly ready: Completion<T>[] = [];
  add(_r: readonly BufferRef[], _w: readonly BufferRef[], _token: T): void {}
  kick(): boolean {
    return false;
  }
  pop(): Completion<T> | null {
    if (this.broken) throw this.broken;
    return this.ready.shift() ?? null;
  }
  enableInterrupts(): boolean {
    return this.ready.length > 0;
  }
  disableInterrupts(): void {}
  stats(): VirtqueueStats {
    return { added: 0, completed: 0, kicks: 0, notifications: 0 };
  }
  detachAll(): T[] {
    return [];
  }
  destroy(): void {}
}

const turn = () => new Promise((done) => setTimeout(done, 0));

test("drainQueue: stopped at its limit with more waiting, it drains the rest from a job", async () => {
  const q = new ReadyQueue<number>();
  for (let i = 0; i < 25; i++) q.ready.push({ token: i, len: 0 });
  const seen: number[] = [];
  assert.is(drainQueue(q, (c) => seen.push(c.token), 10), 10, "bounded per call");
  assert.is(seen.length, 10);
  await turn();
  assert.equal(seen, Array.from({ length: 25 }, (_, i) => i), "nothing left waiting for an interrupt");
});

test("drainQueue: the caller may take the re-drain itself (`again`)", async () => {
  const q = new ReadyQueue<number>();
  for (let i = 0; i < 12; i++) q.ready.push({ token: i, len: 0 });
  let again = 0;
  assert.is(drainQueue(q, () => {}, 10, () => again++), 10);
  assert.is(again, 1, "told once, at once");
  await turn();
  assert.is(q.ready.length, 2, "no drain of its own when the caller took it");
});

test("drainQueue: a ring error in the deferred drain stays on the queue, nothing escapes", async () => {
  const q = new ReadyQueue<number>();
  for (let i = 0; i < 12; i++) q.ready.push({ token: i, len: 0 });
  assert.is(drainQueue(q, () => {}, 10), 10);
  q.broken = new Error("broken");
  await turn();
  assert.is(q.ready.length, 2);
});

test.run();
