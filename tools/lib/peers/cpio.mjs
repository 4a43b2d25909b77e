// A newc ("070701") cpio archive, as the Linux kernel unpacks an initramfs.

const pad4 = (n) => (4 - (n % 4)) % 4;
const hex8 = (n) => (n >>> 0).toString(16).padStart(8, "0");

/**
 * entries: {name, mode (full st_mode, e.g. 0o100755), data?: Uint8Array | string,
 * rdev?: [major, minor]}; returns the archive bytes (with the TRAILER!!! entry).
 */
export function newcArchive(entries) {
  const parts = [];
  const enc = new TextEncoder();
  let ino = 1;
  const add = (name, mode, data, rdev = [0, 0]) => {
    const nameBytes = enc.encode(`${name}\0`);
    const body = typeof data === "string" ? enc.encode(data) : data ?? new Uint8Array(0);
    const fields = [ino++, mode, 0, 0, (mode & 0o170000) === 0o040000 ? 2 : 1, 0, body.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
    parts.push(enc.encode(`070701${fields.map(hex8).join("")}`), nameBytes, new Uint8Array(pad4(110 + nameBytes.length)), body, new Uint8Array(pad4(body.length)));
  };
  for (const e of entries) add(e.name, e.mode, e.data, e.rdev);
  add("TRAILER!!!", 0, null);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total + pad4(total));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}
