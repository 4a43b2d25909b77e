// TCP between two stacks on a perfect virtual wire: handshake (MSS, window scale),
// data both ways, FIN from each side through every closing state, TIME-WAIT ending,
// RST for a closed port, the ECMA-419 shapes of TCP and Listener.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Listener } from "../../../net/tcp/listener.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { ConnectionRefusedError, PeerClosedError } from "../../../net/tcp/errors.js";
import { SocketClosedError } from "../../../net/ip/errors.js";
import { ADDRESS_A, ADDRESS_B, world } from "./tcp-wire.js";

function pattern(n: number, salt = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 8) + salt) & 0xff;
  return b;
}

test("handshake, data both ways, close from the client: every state, TIME-WAIT ends", () => {
  const w = world(1);
  let server: TCP | undefined;
  const serverGot: number[] = [];
  const events: string[] = [];
  const listener = new Listener({
    stack: w.b,
    port: 80,
    onReadable(count) {
      events.push(`accept ${count}`);
      server = new TCP({
        from: listener.read()!,
        onReadable() {
          const data = new Uint8Array(server!.read()!);
          serverGot.push(...data);
          server!.write(data); // echo
        },
        onError(e) {
          events.push(`server ${e.name}`);
          server!.close();
        },
      });
    },
  });
  const echoed: number[] = [];
  const client = new TCP({
    stack: w.a,
    address: ADDRESS_B,
    port: 80,
    onWritable(count) {
      if (events.includes("connected")) return;
      events.push("connected");
      assert.ok(count > 0);
      client.write(pattern(3000));
    },
    onReadable() {
      echoed.push(...new Uint8Array(client.read()!));
      if (echoed.length === 3000) client.close();
    },
  });
  assert.is(client.state, "SYN-SENT");
  assert.ok(w.time.run(() => echoed.length === 3000, 5000), "echo completes");
  assert.equal(Uint8Array.from(serverGot), pattern(3000));
  assert.equal(Uint8Array.from(echoed), pattern(3000));
  assert.ok(w.time.run(() => w.tcpB.active === 0, 5000), "server side closed");
  assert.ok(events.includes("server PeerClosedError"), events.join());
  const [tw] = w.tcpA.connections();
  assert.is(tw?.state, "TIME-WAIT");
  assert.is(server!.remoteAddress, undefined); // closed socket: no connection
  w.time.advance(61_000); // 2 MSL
  assert.is(w.tcpA.connections().length, 0);
  assert.is(w.tcpB.connections().length, 0);
  assert.throws(() => client.read(), (e: unknown) => e instanceof SocketClosedError);
  client.close(); // safe twice
  listener.close();
  listener.close();
  // the MSS option: both ends took 1460 (MTU 1500)
  assert.is(w.tcpA.stats.retransmittedSegments, 0);
});

test("a SYN to a closed port is refused with RST", () => {
  const w = world(2);
  let error: Error | null = null;
  new TCP({ stack: w.a, address: ADDRESS_B, port: 81, onError: (e) => (error = e) });
  w.time.run(() => error !== null, 2000);
  assert.instance(error, ConnectionRefusedError);
  assert.is(w.tcpB.stats.resetsSent, 1);
  assert.is(w.tcpA.active, 0);
});

test("simultaneous close: both ends pass CLOSING and TIME-WAIT", () => {
  const w = world(3);
  let server: TCP | undefined;
  const listener = new Listener({ stack: w.b, port: 7, onReadable: () => (server = listener.read()) });
  const client = new TCP({ stack: w.a, address: ADDRESS_B, port: 7 });
  w.time.run(() => server !== undefined, 2000);
  const states = new Set<string>();
  const [ca] = w.tcpA.connections();
  const [cb] = w.tcpB.connections();
  client.close();
  server!.close();
  w.time.run(() => {
    states.add(ca!.state).add(cb!.state);
    return ca!.state === "TIME-WAIT" && cb!.state === "TIME-WAIT";
  }, 5000);
  assert.ok(states.has("FIN-WAIT-1"));
  assert.ok(states.has("CLOSING"), [...states].join());
  assert.is(ca!.state, "TIME-WAIT");
  assert.is(cb!.state, "TIME-WAIT");
  w.time.advance(61_000);
  assert.is(w.tcpA.connections().length + w.tcpB.connections().length, 0);
  listener.close();
});

test("close from the server: CLOSE-WAIT, LAST-ACK on the client side", () => {
  const w = world(4);
  let server: TCP | undefined;
  const listener = new Listener({ stack: w.b, port: 7, onReadable: () => (server = listener.read()) });
  let peerClosed = false;
  const states: string[] = [];
  const client = new TCP({
    stack: w.a, address: ADDRESS_B, port: 7,
    onError(e) {
      peerClosed = e instanceof PeerClosedError;
      states.push(client.state);
      client.close();
      states.push(w.tcpA.connections()[0]!.state);
    },
  });
  w.time.run(() => server !== undefined, 2000);
  server!.write(pattern(10));
  server!.close();
  w.time.run(() => client.readable === 10, 2000);
  assert.equal(new Uint8Array(client.read()!), pattern(10));
  w.time.run(() => peerClosed, 2000);
  assert.equal(states, ["CLOSE-WAIT", "LAST-ACK"]);
  w.time.run(() => w.tcpA.connections().length === 0, 2000);
  assert.is(w.tcpB.connections()[0]?.state, "TIME-WAIT");
  listener.close();
});

test("ECMA-419 shape: options checked, format, write beyond writable throws, methods after close throw", () => {
  const w = world(5);
  assert.throws(() => new TCP({ stack: w.a, port: 80 } as never), TypeError);
  assert.throws(() => new TCP({ stack: w.a, address: ADDRESS_B, port: 0 }), RangeError);
  assert.throws(() => new TCP({ stack: w.a, address: "nowhere", port: 80 }));
  assert.throws(() => new Listener({ stack: w.b, port: 70000 }), RangeError);
  const l = new Listener({ stack: w.b, port: 80 });
  assert.throws(() => new Listener({ stack: w.b, port: 80 }));
  assert.is(l.port, 80);
  let server: TCP | undefined;
  l.onReadable = () => (server = l.read());
  const c = new TCP({ stack: w.a, host: ADDRESS_B, port: 80, nodelay: true });
  assert.is(c.format, "buffer");
  assert.throws(() => (c.format = "string" as never), RangeError);
  assert.throws(() => c.write(new Uint8Array(1)), RangeError); // not connected yet: 0 writable
  w.time.run(() => server !== undefined, 2000);
  assert.is(c.remoteAddress, ADDRESS_B);
  assert.is(c.remotePort, 80);
  assert.is(server!.remoteAddress, ADDRESS_A);
  assert.is(server!.remotePort, c.port);
  assert.is(c.writable, 16384);
  assert.throws(() => c.write(new Uint8Array(16385)), RangeError);
  c.write(new Uint8Array(16384));
  assert.is(c.writable, 0);
  assert.is(c.read(), undefined);
  c.close();
  assert.throws(() => c.write(new Uint8Array(1)), (e: unknown) => e instanceof SocketClosedError);
  l.close();
  assert.throws(() => l.read(), (e: unknown) => e instanceof SocketClosedError);
});

test.run();
