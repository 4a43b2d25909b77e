// Property test: thousands of random add / kick / complete / pop sequences against a device
// played by hand, seeded and deterministic. Invariants: the device sees exactly the chains
// added, no descriptor is in two chains, free count adds up, every token comes back exactly
// once with its length, and indirect tables are freed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LEGACY, MODERN, makeQueue, rng } from "./hand-device.js";
import { QueueFullError } from "../../../ring/errors.js";
import { needEvent } from "../../../ring/event-idx.js";
import type { BufferRef } from "../../../ring/virtqueue.js";

interface Req {
  token: number;
  readable: BufferRef[];
  writable: BufferRef[];
  writableBytes: number;
  descs: number;
}

function run(seed: number, size: number, legacy: boolean, indirect: boolean, eventIdx: boolean, steps: number) {
  const r = rng(seed);
  const env = makeQueue<number>({ size, layout: legacy ? LEGACY : MODERN, indirect, eventIdx, regionBytes: 1 << 18 });
  const { q, dev, pool } = env;
  // The chains' buffers: anywhere in one block of the queue's pool, 16-byte steps, ≤ 5000 bytes.
  const data = pool.alloc(16 * 4096 + 5000);
  const base = pool.stats().allocations;
  const unpublished: Req[] = [];
  const published: Req[] = []; // added and kicked, not yet seen by the device
  const held = new Map<number, Req>(); // head -> request the device holds
  const done = new Map<number, { len: number; descs: number }>(); // completed, not popped yet
  const returned = new Set<number>();
  let nextToken = 0;
  let notifications = 0;

  const buf = (): BufferRef => ({ phys: data.phys + 16 * r(4096), len: 1 + r(5000) });
  for (let step = 0; step < steps; step++) {
    const action = r(10);
    if (action < 4) {
      const readable = Array.from({ length: r(3) }, buf);
      const writable = Array.from({ length: r(3) }, buf);
      if (readable.length + writable.length === 0) writable.push(buf());
      const n = readable.length + writable.length;
      if (n > size) continue;
      const req: Req = {
        token: nextToken,
        readable,
        writable,
        writableBytes: writable.reduce((s, b) => s + b.len, 0),
        descs: indirect && n > 1 ? 1 : n,
      };
      const freeBefore = q.freeCount;
      try {
        q.add(readable, writable, req.token);
      } catch (e) {
        assert.instance(e, QueueFullError);
        assert.ok(freeBefore < req.descs, "full only when there is no room");
        assert.is(q.freeCount, freeBefore);
        continue;
      }
      nextToken++;
      unpublished.push(req);
    } else if (action < 6) {
      const oldIdx = dev.availIdx();
      if (eventIdx) dev.setAvailEvent(oldIdx + r(4));
      const event = eventIdx ? dev.u16(q.addresses.device + 4 + 8 * size) : 0;
      const sent = q.kick();
      const newIdx = dev.availIdx();
      assert.is(newIdx, (oldIdx + unpublished.length) & 0xffff);
      const expected = unpublished.length > 0 && (eventIdx ? needEvent(event, newIdx, oldIdx) : true);
      assert.is(sent, expected, "notification decision");
      if (sent) notifications++;
      published.push(...unpublished.splice(0));
    } else if (action < 8) {
      // The device takes what was published and checks each chain against what was added.
      for (const head of dev.takeAvailable()) {
        const req = published.shift()!;
        assert.ok(!held.has(head), "head not already held");
        const seen = dev.chain(head);
        const want = [...req.readable.map((b) => ({ ...b, write: false })), ...req.writable.map((b) => ({ ...b, write: true }))];
        assert.equal(seen, want);
        held.set(head, req);
      }
      // No descriptor in two chains.
      const usedDescs = new Set<number>();
      for (const head of held.keys()) {
        let i = head;
        for (let k = 0; ; k++) {
          assert.ok(!usedDescs.has(i), `descriptor ${i} in two chains`);
          usedDescs.add(i);
          const d = dev.desc(i);
          if (!(d.flags & 1)) break;
          i = d.next;
        }
      }
      // Complete a random subset in random order.
      const heads = [...held.keys()];
      for (let k = r(heads.length + 1); k > 0; k--) {
        const head = heads.splice(r(heads.length), 1)[0]!;
        const req = held.get(head)!;
        held.delete(head);
        const len = r(req.writableBytes + 1);
        done.set(req.token, { len, descs: req.descs });
        dev.complete(head, len);
      }
    } else {
      for (let c = q.pop(); c !== null; c = q.pop()) {
        assert.ok(!returned.has(c.token), "token returned once");
        assert.is(c.len, done.get(c.token)?.len);
        returned.add(c.token);
        done.delete(c.token);
      }
    }
    // Free count adds up.
    const inUse = [...unpublished, ...published, ...held.values(), ...done.values()].reduce((s, x) => s + x.descs, 0);
    assert.is(q.freeCount, size - inUse);
    assert.is(q.inFlight, unpublished.length + published.length + held.size + done.size);
    assert.is(q.broken, null);
  }
  // Drain: publish, complete, pop everything.
  if (q.kick()) notifications++;
  published.push(...unpublished.splice(0));
  for (const head of dev.takeAvailable()) held.set(head, published.shift()!);
  for (const [head, req] of held) {
    done.set(req.token, { len: req.writableBytes, descs: req.descs });
    dev.complete(head, req.writableBytes);
  }
  for (let c = q.pop(); c !== null; c = q.pop()) {
    assert.ok(!returned.has(c.token));
    assert.is(c.len, done.get(c.token)?.len);
    returned.add(c.token);
  }
  assert.is(returned.size, nextToken, "every token back exactly once");
  assert.is(q.freeCount, size);
  assert.is(q.inFlight, 0);
  assert.is(pool.stats().allocations, base, "indirect tables freed");
  const s = q.stats();
  assert.is(s.added, nextToken);
  assert.is(s.completed, nextToken);
  assert.is(s.notifications, notifications);
  return nextToken;
}

test("random sequences keep every invariant (seeded)", () => {
  let total = 0;
  let seed = 1;
  for (const size of [1, 2, 4, 8, 16, 64]) {
    for (const legacy of [false, true]) {
      for (const indirect of [false, true]) {
        for (const eventIdx of [false, true]) {
          total += run(seed++, size, legacy, indirect, eventIdx, 400);
        }
      }
    }
  }
  assert.ok(total > 3000, `ran ${total} requests`);
});

test.run();
