// The HTTP/1.1 server on the virtual wire, driven by a raw TCP client: keep-alive,
// Connection: close, HTTP/1.0, pipelining, chunked request and response bodies, and the
// bounds (431 for a huge head, 413 for a huge body, 400 for garbage).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { HttpServer } from "../../../net/http/server.js";
import { ChunkedDecoder } from "../../../net/http/message.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { ADDRESS_B, world, type World } from "./tcp-wire.js";

function serve(w: World): HttpServer {
  return new HttpServer({
    stack: w.b,
    port: 80,
    maxHeaderBytes: 1024,
    maxBodyBytes: 2048,
    handler: (req) => {
      if (req.target === "/chunked") return { body: "x".repeat(10000), chunked: true };
      return { headers: { "content-type": "text/plain" }, body: `${req.method} ${req.target} ${req.body.length}\n` };
    },
  });
}

/** Sends `request` (in pieces of `piece` bytes) and collects everything until the server closes or `ms` pass. */
function exchange(w: World, request: string, ms = 3000, piece = 1 << 20): { text: string; closed: boolean } {
  const res = { text: "", closed: false };
  let sent = 0;
  const bytes = Uint8Array.from(request, (c) => c.charCodeAt(0));
  const c: TCP = new TCP({
    stack: w.a,
    address: ADDRESS_B,
    port: 80,
    onWritable() {
      while (sent < bytes.length && c.writable > 0) {
        const n = Math.min(c.writable, piece, bytes.length - sent);
        c.write(bytes.subarray(sent, sent + n));
        sent += n;
      }
    },
    onReadable() {
      for (let b = c.read(); b !== undefined; b = c.read()) res.text += String.fromCharCode(...new Uint8Array(b));
    },
    onError() {
      res.closed = true;
      c.close();
    },
  });
  w.time.run(() => res.closed, ms);
  if (!res.closed) c.close();
  return res;
}

test("keep-alive: two pipelined requests on one connection, then Connection: close ends it", () => {
  const w = world(40);
  serve(w);
  const r = exchange(w, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nConnection: close\r\n\r\n");
  assert.ok(r.closed);
  const answers = r.text.split("HTTP/1.1 200 OK").slice(1);
  assert.is(answers.length, 3, r.text);
  assert.match(answers[0]!, /content-length: 9\r\n\r\nGET \/a 0\n$/);
  assert.match(answers[1]!, /POST \/b 5\n$/);
  assert.match(answers[2]!, /connection: close/);
});

test("a kept-alive connection stays open; HTTP/1.0 closes unless it asks for keep-alive", () => {
  const w = world(41);
  serve(w);
  const open = exchange(w, "GET / HTTP/1.1\r\n\r\n", 1000);
  assert.is(open.closed, false);
  assert.match(open.text, /^HTTP\/1\.1 200 OK/);
  const old = exchange(w, "GET / HTTP/1.0\r\n\r\n");
  assert.ok(old.closed);
  assert.match(old.text, /^HTTP\/1\.0 200 OK\r\n[^]*connection: close/);
  const oldKept = exchange(w, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1000);
  assert.is(oldKept.closed, false);
  assert.match(oldKept.text, /connection: keep-alive/);
});

test("chunked: a chunked request body is decoded; a chunked response decodes to the body", () => {
  const w = world(42);
  serve(w);
  const r = exchange(w, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n", 3000, 7);
  assert.match(r.text, /POST \/up 11\n$/);
  const c = exchange(w, "GET /chunked HTTP/1.1\r\nConnection: close\r\n\r\n");
  const head = c.text.indexOf("\r\n\r\n");
  assert.match(c.text.slice(0, head), /transfer-encoding: chunked/);
  let body = "";
  const d = new ChunkedDecoder();
  d.feed(Uint8Array.from(c.text.slice(head + 4), (ch) => ch.charCodeAt(0)), (p) => (body += String.fromCharCode(...p)));
  assert.ok(d.done);
  assert.is(body, "x".repeat(10000));
});

test("bounds: a head over maxHeaderBytes gets 431, a body over maxBodyBytes 413, garbage 400; each closes", () => {
  const w = world(43);
  const server = serve(w);
  const big = exchange(w, `GET / HTTP/1.1\r\nX: ${"a".repeat(2000)}\r\n\r\n`);
  assert.ok(big.closed);
  assert.match(big.text, /^HTTP\/1\.1 431 /);
  const body = exchange(w, "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
  assert.match(body.text, /^HTTP\/1\.1 413 /);
  const junk = exchange(w, "HELLO\r\n\r\n");
  assert.match(junk.text, /^HTTP\/1\.1 400 /);
  const both = exchange(w, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  assert.match(both.text, /^HTTP\/1\.1 400 /);
  assert.is(server.stats.rejected, 4);
  server.close();
});

test("idle connections are closed after idleMs", () => {
  const w = world(44);
  new HttpServer({ stack: w.b, port: 80, idleMs: 2000, handler: () => ({ body: "ok" }) });
  const r = exchange(w, "GET / HTTP/1.1\r\n\r\n", 10_000);
  assert.ok(r.closed);
});

test.run();
