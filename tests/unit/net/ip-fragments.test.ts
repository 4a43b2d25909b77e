// IPv4 fragments: datagrams larger than the MTU are sent as fragments and reassembled
// (ping of 4000 bytes both ways, in any order, duplicated); the reassembly bounds hold
// under a flood of fragments that never complete (memory stays fixed, a real datagram
// still gets through); overlaps, timeouts, oversize are dropped.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Reassembler } from "../../../net/ip/fragments.js";
import { toIpv4 } from "../../../net/ip/address.js";
import { ping } from "../../../net/ip/ping.js";
import { ADDRESS_B, world } from "./tcp-wire.js";

test("ping of 4000 bytes: the request and the reply each go as 3 fragments and come back whole", async () => {
  const w = world(60, { reorder: 0.5, reorderMs: 5, duplicate: 0.2 });
  const p = ping(w.a, ADDRESS_B, { size: 4000 });
  w.time.advance(200);
  const r = await p;
  assert.is(r.bytes, 4000);
  assert.is(w.a.stats.ipFragmentsSent, 3);
  assert.is(w.b.stats.ipFragmentsSent, 3);
  assert.is(w.b.reassembly.stats.reassembled, 1);
  assert.is(w.a.reassembly.stats.reassembled, 1);
});

const S1 = toIpv4("10.0.0.9");
const D = toIpv4("10.0.0.1");

test("reassembly: in any order; overlaps, a bad last fragment and oversize drop the datagram", () => {
  const r = new Reassembler({ maxDatagram: 4096 });
  const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  assert.is(r.add(S1, D, 1, 17, 1480, true, data.subarray(1480, 2960), 0), null);
  assert.is(r.add(S1, D, 1, 17, 2960, false, data.subarray(2960), 0), null);
  assert.equal(r.add(S1, D, 1, 17, 0, true, data.subarray(0, 1480), 0), data);
  assert.is(r.pending, 0);
  assert.is(r.heldBytes, 0);
  r.add(S1, D, 2, 17, 0, true, data.subarray(0, 1480), 0);
  assert.is(r.add(S1, D, 2, 17, 8, true, data.subarray(8, 16), 0), null); // overlaps
  assert.is(r.stats.overlaps, 1);
  assert.is(r.pending, 0);
  assert.is(r.add(S1, D, 3, 17, 4000, false, data.subarray(0, 200), 0), null); // past maxDatagram
  assert.is(r.stats.tooLarge, 1);
  assert.is(r.add(S1, D, 4, 17, 0, true, data.subarray(0, 13), 0), null); // middle fragment not 8-aligned
  assert.is(r.stats.tooLarge, 2);
});

test("reassembly bounds: a flood of incomplete fragments keeps memory fixed; timeouts; per-source limit", () => {
  const r = new Reassembler({ maxAssemblies: 8, perSource: 4, maxBytes: 16384, timeoutMs: 30000 });
  const piece = new Uint8Array(1480);
  for (let i = 0; i < 10000; i++) {
    r.add(toIpv4(`10.0.${(i >> 8) & 255}.${i & 255}`), D, i & 0xffff, 17, 0, true, piece, i);
    assert.ok(r.pending <= 8 && r.heldBytes <= 16384);
  }
  assert.ok(r.stats.evicted > 9000);
  // one source cannot hold more than 4
  const s = new Reassembler({ perSource: 4 });
  for (let id = 0; id < 10; id++) s.add(S1, D, id, 17, 0, true, piece, 0);
  assert.is(s.pending, 4);
  // a datagram still completes in the middle of the flood
  const data = new Uint8Array(2000).fill(7);
  r.add(S1, D, 999, 17, 0, true, data.subarray(0, 1480), 20000);
  assert.equal(r.add(S1, D, 999, 17, 1480, false, data.subarray(1480), 20001), data);
  // an old half datagram times out
  r.add(S1, D, 1000, 17, 0, true, piece, 30000);
  assert.is(r.add(S1, D, 1000, 17, 1480, false, piece.subarray(0, 8), 60001), null);
  assert.ok(r.stats.timedOut >= 1);
});

test.run();
