// The fast Internet checksum (32-bit words in machine order) against the plain
// byte-pair definition of RFC 1071, at every alignment and length.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { checksum, finish, sumWords } from "../../../net/ip/checksum.js";
import { alignedBytes, copyBytes } from "../../../net/bytes.js";

function reference(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

test("matches the byte-pair definition at every offset and length (seeded data)", () => {
  let x = 12345;
  const big = new Uint8Array(1600);
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    big[i] = x & 0xff;
  }
  for (const offset of [0, 1, 2, 3, 14, 34, 42]) {
    for (const length of [0, 1, 2, 3, 15, 16, 17, 20, 63, 64, 65, 1472, 1480, 1500]) {
      const part = big.subarray(offset, offset + length);
      assert.is(checksum(part), reference(part), `offset ${offset} length ${length}`);
      assert.is(finish(sumWords(part, 0x1234 + 17)), reference(part, 0x1234 + 17), `with a pseudo-header sum, offset ${offset} length ${length}`);
    }
  }
  const ones = new Uint8Array(1500).fill(0xff);
  assert.is(checksum(ones), reference(ones));
});

test("copyBytes: exact at every source and destination alignment; alignedBytes sits where asked", () => {
  const src = Uint8Array.from({ length: 1600 }, (_, i) => (i * 13 + 5) & 255);
  for (const from of [0, 1, 2, 3, 6]) {
    for (const to of [0, 1, 2, 3, 12, 14]) {
      for (const n of [0, 5, 31, 32, 33, 100, 1514]) {
        const dst = new Uint8Array(1600).fill(0xee);
        copyBytes(dst, to, src.subarray(from, from + n));
        assert.equal(dst.subarray(to, to + n), src.subarray(from, from + n), `from ${from} to ${to} n ${n}`);
        assert.is(dst[to + n], 0xee, "nothing written past the end");
        if (to > 0) assert.is(dst[to - 1], 0xee, "nothing written before the start");
      }
    }
  }
  for (const a of [0, 1, 2, 3, 6]) {
    const b = alignedBytes(10, a);
    assert.is(b.byteOffset & 3, a & 3);
    assert.is(b.length, 10);
  }
});

test.run();
