// `fs` against the 9p host model through the shell on the model's UART: ls, cat, put and
// fill (quoted names with blanks and UTF-8), stat, mv, rm, and a named error for a
// missing file.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { fillByte, fsCommand, words } from "../../../apps/shell/commands/fs.js";
import { finish } from "../core/rig.js";
import { modelShell } from "../shell/shell-rig.js";
import { ninepRig } from "./ninep-rig.js";

test("words: quotes keep blanks, the last word takes the rest", () => {
  assert.equal(words(`"/a b" c d e`, 2), ["/a b", "c d e"]);
  assert.equal(words(`/x`, 2), ["/x"]);
  assert.equal(words(`"/a" "b c"`, 2), ["/a", "b c"]);
});

test("fs ls, cat, put, fill, stat, mv, rm on the model", async () => {
  const r = await ninepRig(2, { maxMsize: 8192 }, {}, (m) => {
    m.tree.put("/hello.txt", "hello\n");
    m.tree.put("/sub/x", "1");
  });
  const { run } = modelShell(r, [fsCommand(r.driver)]);
  await run("batch on");
  const ls = await run("fs ls /");
  assert.ok(ls.includes("hello.txt\r\n") && ls.includes("sub/\r\n"), ls);
  assert.ok((await run("fs cat /hello.txt")).startsWith("hello\r\n@@status 0"));
  assert.ok((await run(`fs put "/a b é.txt" two words`)).includes("wrote 9 bytes"));
  assert.equal(new TextDecoder().decode(r.model_.tree.get("/a b é.txt")), "two words");
  const fill = await run(`fs fill "/big file" 20000 3`);
  assert.ok(fill.includes("wrote 20000 bytes to /big file crc32 "), fill);
  const big = r.model_.tree.get("/big file")!;
  assert.is(big.length, 20000);
  assert.ok(big.every((b, i) => b === fillByte(i, 3)));
  assert.ok((await run(`fs stat "/big file"`)).startsWith("file 20000 bytes"));
  await run(`fs mv "/big file" /moved`);
  assert.ok(r.model_.tree.get("/moved") !== undefined);
  await run("fs rm /moved");
  assert.is(r.model_.tree.get("/moved"), undefined);
  const missing = await run("fs cat /nope");
  assert.ok(missing.includes("ENOENT") && missing.includes("@@status 1"), missing);
  const usage = await run("fs cp a b");
  assert.ok(usage.includes("usage: fs") && usage.includes("@@status 1"), usage);
  await finish(r);
});

test.run();
