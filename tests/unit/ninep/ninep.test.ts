// virtio-9p against the strict model, both transport versions: the session (msize,
// mount tag), the files API (create, write split by msize, read back, list, stat,
// mkdir, rename, delete), several requests in flight with distinct tags, Rlerror as a
// named error, and a device that answers with a wrong tag or a short reply.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, VERSIONS } from "../core/rig.js";
import { NinepError, NinepProtocolError } from "../../../drivers/9p/errors.js";
import { ninepRig, pattern, run } from "./ninep-rig.js";

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: mount tag from the config, msize negotiated down to the server's`, async () => {
    const r = await ninepRig(version, { mountTag: "host", maxMsize: 16384 });
    await run(r, r.share.client.ready());
    assert.is(r.share.tag, "host");
    assert.is(r.share.client.msize, 16384);
    assert.is(r.model_.msize, 16384);
    await finish(r);
  });

  test(`${v}: lists the root, reads a file, stats it`, async () => {
    const r = await ninepRig(version, {}, {}, (m) => {
      m.tree.put("/hello.txt", "hello 9p\n");
      m.tree.put("/sub/deep.bin", pattern(10));
    });
    const files = r.share.files;
    const list = await run(r, files.readDirectory("/"));
    assert.equal(list.map((e) => `${e.name}:${e.type}`).sort(), ["hello.txt:file", "sub:directory"]);
    const text = new TextDecoder().decode(await run(r, files.readFile("/hello.txt")));
    assert.is(text, "hello 9p\n");
    const st = await run(r, files.status("/sub/deep.bin"));
    assert.is(st.size, 10);
    assert.is(st.type, "file");
    assert.is((await run(r, files.status("/sub"))).type, "directory");
    assert.is(r.model_.fids.size, 1, "only the root fid left: every walk was clunked");
    await finish(r);
  });

  for (const size of [1, 4096, 1 << 20]) {
    test(`${v}: writes ${size} bytes split by msize, several in flight, same bytes on the host`, async () => {
      const r = await ninepRig(version, { maxMsize: 8192, delayTurns: 1, outOfOrder: true });
      const data = pattern(size, size);
      await run(r, r.share.files.writeFile("/out file é.bin", data));
      assert.equal(r.model_.tree.get("/out file é.bin"), data);
      const back = await run(r, r.share.files.readFile("/out file é.bin"));
      assert.equal(back, data);
      if (size > 8192) {
        assert.ok((r.model_.served.get(118) ?? 0) >= Math.ceil(size / (8192 - 23)), "one Twrite per msize");
        assert.ok(r.model_.maxTagsInFlight > 1, `several tags in flight (saw ${r.model_.maxTagsInFlight})`);
      }
      assert.is(r.model_.fids.size, 1);
      await finish(r);
    });
  }

  test(`${v}: mkdir, rename, delete; a missing file is ENOENT with the path`, async () => {
    const r = await ninepRig(version);
    const files = r.share.files;
    await run(r, files.createDirectory("/d"));
    await run(r, files.writeFile("/d/a", new Uint8Array([1, 2, 3])));
    await run(r, files.rename("/d/a", "/b"));
    assert.is(r.model_.tree.get("/d/a"), undefined);
    assert.equal(r.model_.tree.get("/b"), new Uint8Array([1, 2, 3]));
    await run(r, files.delete("/b"));
    await run(r, files.delete("/d"));
    assert.equal((await run(r, files.readDirectory("/"))), []);
    const error = await run(r, files.readFile("/nope")).catch((e: unknown) => e);
    assert.instance(error, NinepError);
    assert.is((error as NinepError).errno, 2);
    assert.is((error as NinepError).code, "ENOENT");
    assert.match((error as Error).message, "/nope");
    await run(r, files.createDirectory("/x"));
    const exists = await run(r, files.createDirectory("/x")).catch((e: unknown) => e);
    assert.is((exists as NinepError).code, "EEXIST");
    await finish(r);
  });

  test(`${v}: an injected Rlerror EACCES is a named error and the client stays up`, async () => {
    const r = await ninepRig(version, {}, {}, (m) => m.tree.put("/f", "x"));
    await run(r, r.share.client.ready());
    r.model_.inject({ errno: 13, type: 12 }); // the next Tlopen
    const error = await run(r, r.share.files.readFile("/f")).catch((e: unknown) => e);
    assert.is((error as NinepError).code, "EACCES");
    assert.match((error as Error).message, "Tlopen /f: EACCES (errno 13)");
    assert.equal(new TextDecoder().decode(await run(r, r.share.files.readFile("/f"))), "x");
    assert.is(r.model_.fids.size, 1, "the fid of the failed open was clunked");
    await finish(r);
  });

  for (const fault of ["wrong-tag", "short-reply"] as const) {
    test(`${v}: a reply with a ${fault} marks the client broken with a named error`, async () => {
      const r = await ninepRig(version, {}, {}, (m) => m.tree.put("/f", "x"));
      await run(r, r.share.client.ready());
      r.model_.inject(fault);
      const error = await run(r, r.share.files.status("/f")).catch((e: unknown) => e);
      assert.instance(error, NinepProtocolError);
      assert.is((error as NinepProtocolError).kind, fault);
      assert.is(r.share.client.broken, error);
      const later = await run(r, r.share.files.status("/f")).catch((e: unknown) => e);
      assert.is(later, error, "later requests fail fast with the same error");
      assert.ok(r.bus.device(31)?.error !== null, "the device shows the error");
      await finish(r);
    });
  }

  test(`${v}: closing a file twice is safe; use after close throws`, async () => {
    const r = await ninepRig(version, {}, {}, (m) => m.tree.put("/f", "abc"));
    const file = await run(r, r.share.files.openFile({ path: "/f", mode: "r+" }));
    await run(r, file.write(new Uint8Array([0x41]), 1));
    await run(r, file.close());
    await run(r, file.close());
    await run(r, file.read(new Uint8Array(1), 0).then(() => assert.unreachable("read after close"), (e: Error) => assert.match(e.message, "closed")));
    assert.equal(new TextDecoder().decode(r.model_.tree.get("/f")), "aAc");
    await finish(r);
  });
}

test.run();
