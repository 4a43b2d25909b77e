// A 9p server that never answers must not hang `fs`: each request has a deadline
// (timeoutMs); past it the request fails with RequestTimeoutError, its slot stays the
// device's, and the device is reset and re-initialized (a new session), which gives every
// chain back. A server that keeps not answering is given up after maxRestarts
// re-initializations with no answer in between (DeviceBrokenError); the driver stays up.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, VERSIONS } from "../core/rig.js";
import { ninepRig, run } from "./ninep-rig.js";

const outcome = (p: Promise<unknown>) => p.then(() => "resolved", (e: Error) => e.name);

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: an unanswered request times out; the reset brings a new session that works`, async () => {
    const r = await ninepRig(version, {}, { timeoutMs: 200 }, (m) => m.tree.put("/a.txt", "abc"));
    const files = r.share.files;
    await run(r, r.share.client.ready());
    const vd = r.bus.device(31)!;
    r.dev.faults.loseChains = true; // takes the chain, never answers
    assert.is(await run(r, outcome(files.status("/a.txt"))), "RequestTimeoutError");
    r.dev.faults.loseChains = false;
    // The reset may have sent its Tversion while chains were still lost: that one times
    // out too and the next reset's session answers.
    let size = -1;
    for (let i = 0; i < 4 && size < 0; i++) {
      await run(r, vd.settled());
      size = await run(r, files.status("/a.txt").then((st) => st.size, () => -1));
    }
    assert.is(size, 3, "a new session answers");
    assert.is(vd.state, "live");
    assert.ok(r.share.client.stats().timeouts >= 1);
    assert.ok(r.share.client.stats().restarts >= 1);
    await finish(r);
  });

  test(`${v}: a server that never answers is given up after maxRestarts; requests then fail at once`, async () => {
    const r = await ninepRig(version, {}, { timeoutMs: 200, maxRestarts: 2 });
    const files = r.share.files;
    await run(r, r.share.client.ready());
    const vd = r.bus.device(31)!;
    r.dev.faults.loseChains = true;
    const seen = new Set<string>();
    for (let i = 0; i < 8 && r.share.client.broken === null; i++) {
      seen.add(await run(r, outcome(files.status("/"))));
      await run(r, vd.settled());
    }
    assert.ok(seen.has("RequestTimeoutError") || seen.has("DeviceStateError"), [...seen].join());
    assert.is(r.share.client.broken?.name, "DeviceBrokenError", "given up");
    assert.is(r.share.client.stats().restarts, 2, "maxRestarts re-initializations, then no more");
    assert.is(await run(r, outcome(files.status("/"))), "DeviceBrokenError", "fails fast, no hang");
    r.dev.faults.loseChains = false;
    await finish(r);
  });
}

test.run();
