import { test } from "uvu";
import * as assert from "uvu/assert";
import { LineEditor } from "../../../apps/shell/line-editor.js";

function editor(maxLength?: number) {
  const out: string[] = [];
  const lines: string[] = [];
  let cancels = 0;
  const ed = new LineEditor({
    write: (t) => out.push(t),
    onLine: (l) => lines.push(l),
    onCancel: () => cancels++,
    ...(maxLength ? { maxLength } : {}),
  });
  const feed = (s: string | number[]) => ed.feed(typeof s === "string" ? new TextEncoder().encode(s) : Uint8Array.from(s));
  return { ed, feed, out: () => out.join(""), lines, cancels: () => cancels };
}

test("printable characters are echoed and a CR ends the line with \\r\\n", () => {
  const e = editor();
  e.feed("help\r");
  assert.equal(e.lines, ["help"]);
  assert.is(e.out(), "help\r\n");
});

test("CRLF counts as one line end, LF alone ends a line, CR CR gives two", () => {
  const e = editor();
  e.feed("a\r\nb\nc\r");
  e.feed("\nd\r\r");
  assert.equal(e.lines, ["a", "b", "c", "d", ""]);
});

test("DEL and BS erase the last character with \\b \\b", () => {
  const e = editor();
  e.feed("abc\x7f\x08x\r");
  assert.equal(e.lines, ["ax"]);
  assert.is(e.out(), "abc\b \b\b \bx\r\n");
});

test("backspace on an empty line prints nothing", () => {
  const e = editor();
  e.feed("\x7f\x7f");
  assert.is(e.out(), "");
});

test("Ctrl-C cancels the line and prints ^C", () => {
  const e = editor();
  e.feed("abc\x03def\r");
  assert.equal(e.lines, ["def"]);
  assert.is(e.cancels(), 1);
  assert.ok(e.out().includes("abc^C\r\ndef"));
});

test("Ctrl-U erases the whole line", () => {
  const e = editor();
  e.feed("abc\x15x\r");
  assert.equal(e.lines, ["x"]);
});

test("arrow keys, SS3 keys and CSI sequences with parameters are ignored", () => {
  const e = editor();
  e.feed("a\x1b[A\x1b[B\x1b[1;5C\x1bOPb\x1b[3~c\r");
  assert.equal(e.lines, ["abc"]);
  assert.is(e.out(), "abc\r\n");
});

test("an escape sequence split across chunks is still ignored", () => {
  const e = editor();
  e.feed("x\x1b");
  e.feed("[");
  e.feed("Dy\r");
  assert.equal(e.lines, ["xy"]);
});

test("ESC followed by Enter ends the line", () => {
  const e = editor();
  e.feed("q\x1b\r");
  assert.equal(e.lines, ["q"]);
});

test("UTF-8 characters split across chunks are echoed whole", () => {
  const e = editor();
  const bytes = Array.from(new TextEncoder().encode("é€😀"));
  for (const b of bytes) e.feed([b]);
  e.feed("\r");
  assert.equal(e.lines, ["é€😀"]);
  assert.is(e.out(), "é€😀\r\n");
});

test("backspace erases a whole multi-byte character", () => {
  const e = editor();
  e.feed("a😀\x7f\r");
  assert.equal(e.lines, ["a"]);
});

test("malformed UTF-8 becomes U+FFFD, control bytes are dropped", () => {
  const e = editor();
  e.feed([0x61, 0xff, 0x01, 0xc3, 0x62, 0x0d]);
  assert.equal(e.lines, ["a\uFFFDb"]);
});

test("echo off: lines still arrive, nothing is written", () => {
  const e = editor();
  e.ed.echo = false;
  e.feed("abc\x7fd\r");
  assert.equal(e.lines, ["abd"]);
  assert.is(e.out(), "");
});

test("input beyond the maximum length rings the bell", () => {
  const e = editor(3);
  e.feed("abcd\r");
  assert.equal(e.lines, ["abc"]);
  assert.is(e.out(), "abc\x07\r\n");
});

test.run();
