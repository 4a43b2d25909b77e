// An echo over TCP between the two stacks of a virtual world: the client writes a
// stream (in random pieces, as writable allows), the server echoes what it reads (in
// random pieces), the client checks every byte of the echo in order, then both close.

import { Listener } from "../../../net/tcp/listener.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { ADDRESS_B, rng, type World } from "./tcp-wire.js";

export function streamByte(i: number): number {
  return (i * 131 + (i >>> 9) * 7 + 3) & 0xff;
}

export interface EchoResult {
  sent: number;
  serverReceived: number;
  echoed: number;
  /** First offset where a byte was wrong (-1: none). */
  serverMismatch: number;
  clientMismatch: number;
  errors: string[];
  done: boolean;
  closed: boolean;
}

export function echoTransfer(w: World, total: number, seed: number, limitMs = 600_000): EchoResult {
  const r = rng(seed);
  const res: EchoResult = { sent: 0, serverReceived: 0, echoed: 0, serverMismatch: -1, clientMismatch: -1, errors: [], done: false, closed: false };
  let server: TCP | undefined;
  const backlog: Uint8Array[] = [];
  const serverFlush = (): void => {
    while (backlog.length > 0 && server !== undefined) {
      const head = backlog[0]!;
      const room = server.writable;
      if (room === 0) return;
      const n = Math.min(room, head.length);
      server.write(head.subarray(0, n));
      if (n === head.length) backlog.shift();
      else backlog[0] = head.subarray(n);
    }
  };
  const listener = new Listener({
    stack: w.b,
    port: 7,
    onReadable() {
      server = new TCP({
        from: listener.read()!,
        onReadable() {
          for (;;) {
            if (backlog.length > 8) return; // let the echo drain first: bounded memory
            const piece = server!.read(1 + Math.floor(r() * 3000));
            if (piece === undefined) break;
            const bytes = new Uint8Array(piece);
            for (let k = 0; k < bytes.length; k++) {
              if (res.serverMismatch < 0 && bytes[k] !== streamByte(res.serverReceived + k)) res.serverMismatch = res.serverReceived + k;
            }
            res.serverReceived += bytes.length;
            backlog.push(bytes);
            serverFlush();
          }
        },
        onWritable() {
          serverFlush();
          if (backlog.length <= 8 && server!.readable > 0) server!.onReadable?.(server!.readable);
        },
        onError(e) {
          if (e.name !== "PeerClosedError") res.errors.push(`server: ${e.message}`);
          server!.close();
        },
      });
    },
  });
  const fill = (): void => {
    while (res.sent < total) {
      const room = client.writable;
      if (room === 0) return;
      const n = Math.min(room, total - res.sent, 1 + Math.floor(r() * 5000));
      const chunk = new Uint8Array(n);
      for (let k = 0; k < n; k++) chunk[k] = streamByte(res.sent + k);
      client.write(chunk);
      res.sent += n;
    }
  };
  const client: TCP = new TCP({
    stack: w.a,
    address: ADDRESS_B,
    port: 7,
    onWritable: fill,
    onReadable() {
      for (let piece = client.read(); piece !== undefined; piece = client.read()) {
        const bytes = new Uint8Array(piece);
        for (let k = 0; k < bytes.length; k++) {
          if (res.clientMismatch < 0 && bytes[k] !== streamByte(res.echoed + k)) res.clientMismatch = res.echoed + k;
        }
        res.echoed += bytes.length;
      }
      if (res.echoed === total) {
        res.done = true;
        client.close();
      }
    },
    onError(e) {
      res.errors.push(`client: ${e.message}`);
    },
  });
  w.time.run(() => res.done || res.errors.length > 0, limitMs);
  res.closed = w.time.run(() => w.tcpA.active === 0 && w.tcpB.active === 0, 300_000);
  listener.close();
  return res;
}
