// Byte copies that are cheap on an interpreter. On XS, TypedArray.prototype.set moves one
// element at a time, so 1472 bytes cost about 0.7 ms under QEMU; the same bytes as 368
// 32-bit words cost a quarter of that. Uint32 (not Float64) keeps every bit pattern.

/** Copies `src` into `dst` at `dstOffset`; word-wise when both sides share their alignment mod 4. */
export function copyBytes(dst: Uint8Array, dstOffset: number, src: Uint8Array): void {
  const n = src.length;
  const to = dst.byteOffset + dstOffset;
  const from = src.byteOffset;
  if (n < 32 || ((to - from) & 3) !== 0) {
    dst.set(src, dstOffset);
    return;
  }
  const head = (4 - (to & 3)) & 3;
  const words = (n - head) >>> 2;
  const tail = head + words * 4;
  for (let i = 0; i < head; i++) dst[dstOffset + i] = src[i]!;
  new Uint32Array(dst.buffer, to + head, words).set(new Uint32Array(src.buffer, from + head, words));
  for (let i = tail; i < n; i++) dst[dstOffset + i] = src[i]!;
}

/** A new zeroed Uint8Array of `length` whose first byte sits at `align` mod 4 in its buffer
 * (so that a later copyBytes to or from a buffer with that alignment is word-wise). */
export function alignedBytes(length: number, align: number): Uint8Array {
  const pad = align & 3;
  return new Uint8Array(new ArrayBuffer(length + pad), pad, length);
}
