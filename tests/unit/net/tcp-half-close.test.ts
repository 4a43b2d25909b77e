// The peer half-closes (FIN after its data, as busybox nc does at the end of its input)
// while our side still holds unread data it cannot echo yet (its send buffer is full).
// The echo is the shell's `net tcp-echo` pump: read as much as write() takes, write it.
// Every byte must come back: the PeerClosedError that follows the last read arrives from
// the event loop, after the reader has written what it read, never from inside read().
// (The Linux-peer QEMU test lost the last 5179 bytes of its 4.37 MB echo this way.)

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { TcpConnection } from "../../../net/tcp/connection.js";
import { Listener } from "../../../net/tcp/listener.js";
import { tcpLayer } from "../../../net/tcp/tcp-layer.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { streamByte } from "./tcp-echo-rig.js";
import { toIpv4 } from "../../../net/ip/address.js";
import { ADDRESS_B, world, type Impairments } from "./tcp-wire.js";

interface HalfCloseResult {
  echoed: number;
  mismatch: number;
  serverWritten: number;
  serverEvents: string[];
}

/** A raw connection from A (it can send FIN and keep reading: SHUT_WR) to the echo on B. */
function halfCloseEcho(seed: number, total: number, impair: Impairments = {}): HalfCloseResult {
  // the server's send ring is much smaller than its receive ring: data waits unread on
  // its side, so the client's FIN arrives before the server has read everything
  const w = world(seed, impair, {}, { sendBuffer: 2048, receiveBuffer: 16384 });
  const res: HalfCloseResult = { echoed: 0, mismatch: -1, serverWritten: 0, serverEvents: [] };
  const listener = new Listener({
    stack: w.b,
    port: 7,
    onReadable() {
      const socket = new TCP({ from: listener.read()! });
      const pump = (): void => {
        for (;;) {
          const room = socket.writable;
          if (room === 0) return;
          const piece = socket.read(room);
          if (piece === undefined) return;
          socket.write(piece); // throws SocketClosedError if the socket was closed under us
          res.serverWritten += piece.byteLength;
        }
      };
      socket.onReadable = pump;
      socket.onWritable = pump;
      socket.onError = (e) => {
        res.serverEvents.push(e.name);
        socket.close();
      };
    },
  });
  const conn: TcpConnection = tcpLayer(w.a).connect(toIpv4(ADDRESS_B), 7);
  let sent = 0;
  let finQueued = false;
  const fill = (): void => {
    while (sent < total) {
      const n = Math.min(conn.writable, total - sent, 1500);
      if (n === 0) return;
      const chunk = new Uint8Array(n);
      for (let k = 0; k < n; k++) chunk[k] = streamByte(sent + k);
      sent += conn.write(chunk);
    }
    if (!finQueued) {
      finQueued = true;
      conn.close(); // FIN after the data; the receiving half stays open
    }
  };
  const out = new Uint8Array(4096);
  conn.events = {
    connected: fill,
    writable: fill,
    readable: () => {
      for (let n = conn.read(out.length, out, 0); n > 0; n = conn.read(out.length, out, 0)) {
        for (let k = 0; k < n; k++) if (res.mismatch < 0 && out[k] !== streamByte(res.echoed + k)) res.mismatch = res.echoed + k;
        res.echoed += n;
      }
    },
    peerClosed: () => {},
    failed: (e) => res.serverEvents.push(`client ${e.name}`),
  };
  w.time.run(() => res.echoed >= total || conn.isClosed(), 600_000);
  w.time.run(() => w.tcpA.active === 0 && w.tcpB.active === 0, 300_000);
  listener.close();
  return res;
}

test("the peer's FIN while our echo still holds unread data: every byte echoed, PeerClosedError after the last write", () => {
  const total = 100_000;
  const res = halfCloseEcho(3, total);
  assert.is(res.serverWritten, total, JSON.stringify(res));
  assert.is(res.echoed, total, JSON.stringify(res));
  assert.is(res.mismatch, -1);
  assert.equal(res.serverEvents, ["PeerClosedError"]);
});

for (let seed = 1; seed <= 4; seed++) {
  test(`half-close echo over a lossy wire (seed ${seed}): every byte echoed once and in order`, () => {
    const total = 60_000 + seed * 10_000;
    const res = halfCloseEcho(seed, total, { loss: 0.03, duplicate: 0.02, reorder: 0.05, delayMs: 2, reorderMs: 20 });
    assert.is(res.echoed, total, JSON.stringify(res));
    assert.is(res.mismatch, -1);
    assert.equal(res.serverEvents, ["PeerClosedError"]);
  });
}

test.run();
