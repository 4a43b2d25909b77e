// Sequence-number arithmetic (RFC 9293 §3.4): 32-bit values compared modulo 2^32.

/** a < b in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a + n, wrapped to 32 bits (unsigned). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** b - a as a signed distance (a before b: positive). */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}
