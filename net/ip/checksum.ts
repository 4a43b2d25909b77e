// The Internet checksum (RFC 1071): one's complement of the one's complement sum of
// 16-bit big-endian words. Used by IPv4 (header), ICMP and UDP (with a pseudo-header).
//
// Speed matters on an interpreter: aligned data is summed 32 bits at a time through a
// Uint32Array in the machine's byte order, then swapped back (RFC 1071 §2: the sum is
// independent of byte order, up to a final swap). Other data goes byte pair by pair.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000); // % and /: sums pass 2^32
  return sum;
}

/** Byte pairs from `start` (an even distance from the data's first word), big-endian. */
function sumPairs(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8; // odd length: pad with a zero byte
  return sum;
}

/** Adds `bytes` (taken as starting on a word boundary) to a running sum; returns it folded to 16 bits. */
export function sumWords(bytes: Uint8Array, sum = 0): number {
  const n = bytes.length;
  const misaligned = bytes.byteOffset & 3;
  if (!LITTLE_ENDIAN || n < 16 || (misaligned & 1) !== 0) return fold(sum + sumPairs(bytes, 0, n));
  // up to 2 bytes to reach a 4-byte boundary (one big-endian pair), then whole words
  const head = misaligned === 0 ? 0 : 2;
  const words = (n - head) >>> 2;
  const tail = head + words * 4;
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset + head, words);
  // Each little-endian word is two byte-swapped 16-bit words, and 2^16 = 1 (mod 0xffff):
  // summing whole words keeps the one's complement sum (exact below 2^53: 2^21 words).
  let swapped = 0;
  let i = 0;
  for (const end = words - 3; i < end; i += 4) swapped += u32[i]! + u32[i + 1]! + u32[i + 2]! + u32[i + 3]!;
  for (; i < words; i++) swapped += u32[i]!;
  return fold(sum + sumPairs(bytes, 0, head) + swap16(fold(swapped)) + sumPairs(bytes, tail, n));
}

/** Folds a running sum and complements it: the checksum field value. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

export function checksum(bytes: Uint8Array): number {
  return finish(sumWords(bytes));
}

/** Sum of the IPv4 pseudo-header for UDP (RFC 768): source, destination, protocol, length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
