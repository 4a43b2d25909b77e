// IPv4 addresses as unsigned 32-bit numbers (first octet in the high byte), and the
// dotted-quad text form.

export const BROADCAST = 0xffff_ffff;
export const ANY = 0;

/** "10.0.2.15" -> 0x0a00020f; null for anything that is not four octets 0-255. */
export function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value >>> 0;
}

/** Like parseIpv4, but throws a RangeError naming `what`. */
export function toIpv4(text: string, what = "address"): number {
  const value = parseIpv4(text);
  if (value === null) throw new RangeError(`${what} ${JSON.stringify(text)} is not an IPv4 address`);
  return value;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Prefix length of a contiguous netmask, or -1. */
export function prefixLength(mask: number): number {
  const m = mask >>> 0;
  let n = 0;
  while (n < 32 && (m & (0x8000_0000 >>> n)) !== 0) n++;
  return ((n === 32 ? 0xffff_ffff : ~(0xffff_ffff >>> n)) >>> 0) === m ? n : -1;
}

export function readIpv4(view: DataView, offset: number): number {
  return view.getUint32(offset, false); // network byte order
}

export function writeIpv4(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, false);
}
