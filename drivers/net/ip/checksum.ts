// The Internet checksum (RFC 1071): one's complement of the one's complement sum of
// 16-bit big-endian words. Used by IPv4 (header), ICMP and UDP (with a pseudo-header).

/** Adds `bytes` to a running 32-bit sum (not yet folded). */
export function sumWords(bytes: Uint8Array, sum = 0): number {
  const n = bytes.length;
  let i = 0;
  for (; i + 1 < n; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < n) sum += bytes[i]! << 8; // odd length: pad with a zero byte
  // fold now and then so the sum stays a small integer
  return (sum & 0xffff) + Math.floor(sum / 0x10000);
}

/** Folds a running sum and complements it: the checksum field value. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function checksum(bytes: Uint8Array): number {
  return finish(sumWords(bytes));
}

/** Sum of the IPv4 pseudo-header for UDP (RFC 768): source, destination, protocol, length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
