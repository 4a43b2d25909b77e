// The 9P2000.L requests this driver sends, one function each: the T-message's fields
// in order and the R-message's fields read back (each reply checked by the client).

import type { NinepClient } from "./ninep-client.js";
import { NinepProtocolError } from "./errors.js";
import { GETATTR_BASIC, MAX_WALK_NAMES, Op, QID_BYTES, READ_HEADER_BYTES, WRITE_HEADER_BYTES, type Qid } from "./ninep-spec.js";

export interface Attr {
  readonly qid: Qid;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly size: number;
  readonly blocks: number;
  /** Modification time, ms since the epoch. */
  readonly mtimeMs: number;
}

export interface DirEntry {
  readonly qid: Qid;
  /** The offset to continue reading the directory after this entry. */
  readonly offset: bigint;
  readonly type: number;
  readonly name: string;
}

/** Twalk fid newfid nwname*(wname) -> Rwalk nwqid*(qid): at most 16 names. */
export function walk(c: NinepClient, fid: number, newfid: number, names: readonly string[], path = ""): Promise<Qid[]> {
  if (names.length > MAX_WALK_NAMES) throw new RangeError(`Twalk of ${names.length} names (at most ${MAX_WALK_NAMES})`);
  return c.request(Op.WALK, (w) => {
    w.u32(fid).u32(newfid).u16(names.length);
    for (const name of names) w.str(name);
  }, (r) => {
    const n = r.u16();
    if (n > names.length) throw new NinepProtocolError("bad-count", `Rwalk of ${n} qids for ${names.length} names`, { nwqid: n });
    const qids: Qid[] = [];
    for (let i = 0; i < n; i++) qids.push(r.qid());
    return qids;
  }, path);
}

/** Tgetattr fid request_mask -> Rgetattr valid qid mode uid gid nlink rdev size blksize blocks times... */
export function getattr(c: NinepClient, fid: number, path = ""): Promise<Attr> {
  return c.request(Op.GETATTR, (w) => w.u32(fid).u64(GETATTR_BASIC), (r) => {
    r.big64(); // valid
    const qid = r.qid();
    const mode = r.u32();
    const uid = r.u32();
    const gid = r.u32();
    const nlink = r.u64();
    r.u64(); // rdev
    const size = r.u64();
    r.u64(); // blksize
    const blocks = r.u64();
    r.skip(16); // atime
    const mtimeMs = r.u64() * 1000 + Math.floor(r.u64() / 1e6);
    r.skip(16 + 16 + 16); // ctime, btime, gen + data_version
    return { qid, mode, uid, gid, nlink, size, blocks, mtimeMs };
  }, path);
}

export interface Opened {
  readonly qid: Qid;
  readonly iounit: number;
}

const opened = (r: { qid(): Qid; u32(): number }): Opened => ({ qid: r.qid(), iounit: r.u32() });

/** Tlopen fid flags -> Rlopen qid iounit. */
export function lopen(c: NinepClient, fid: number, flags: number, path = ""): Promise<Opened> {
  return c.request(Op.LOPEN, (w) => w.u32(fid).u32(flags), opened, path);
}

/** Tlcreate fid name flags mode gid -> Rlcreate qid iounit (fid is then the new open file). */
export function lcreate(c: NinepClient, fid: number, name: string, flags: number, mode: number, path = ""): Promise<Opened> {
  return c.request(Op.LCREATE, (w) => w.u32(fid).str(name).u32(flags).u32(mode).u32(0), opened, path);
}

/** Bytes of data one Tread / Twrite carries at most with this msize. */
export function ioLimit(c: NinepClient, write: boolean): number {
  return c.msize - (write ? WRITE_HEADER_BYTES : READ_HEADER_BYTES);
}

/** Tread fid offset count -> Rread count data: copies the data into `into` at `at`. */
export function read(c: NinepClient, fid: number, offset: number, into: Uint8Array, at: number, count: number, path = ""): Promise<number> {
  const n = Math.min(count, ioLimit(c, false));
  return c.request(Op.READ, (w) => w.u32(fid).u64(offset).u32(n), (r) => {
    const got = r.u32();
    if (got > n) throw new NinepProtocolError("bad-count", `Rread of ${got} bytes for ${n} asked`, { count: got, asked: n });
    into.set(r.bytes(got), at);
    return got;
  }, path);
}

/** Twrite fid offset count data -> Rwrite count (at most one message's worth). */
export function write(c: NinepClient, fid: number, offset: number, data: Uint8Array, path = ""): Promise<number> {
  const part = data.subarray(0, Math.min(data.length, ioLimit(c, true)));
  return c.request(Op.WRITE, (w) => w.u32(fid).u64(offset).u32(part.length).raw(part), (r) => {
    const got = r.u32();
    if (got > part.length) throw new NinepProtocolError("bad-count", `Rwrite of ${got} bytes for ${part.length} sent`, { count: got, sent: part.length });
    return got;
  }, path);
}

/** Treaddir fid offset count -> Rreaddir count data: entries qid offset type name. */
export function readdir(c: NinepClient, fid: number, offset: bigint, path = ""): Promise<DirEntry[]> {
  const count = ioLimit(c, false);
  return c.request(Op.READDIR, (w) => w.u32(fid).u64(offset).u32(count), (r) => {
    const n = r.u32();
    if (n > count || n !== r.remaining) throw new NinepProtocolError("bad-count", `Rreaddir count ${n} (asked ${count}, ${r.remaining} bytes follow)`, { count: n });
    const entries: DirEntry[] = [];
    while (r.remaining > 0) {
      if (r.remaining < QID_BYTES + 8 + 1 + 2) throw new NinepProtocolError("short-reply", `Rreaddir entry cut at ${r.remaining} bytes`, { remaining: r.remaining });
      entries.push({ qid: r.qid(), offset: r.big64(), type: r.u8(), name: r.str() });
    }
    return entries;
  }, path);
}

/** Tmkdir dfid name mode gid -> Rmkdir qid. */
export function mkdir(c: NinepClient, dfid: number, name: string, mode: number, path = ""): Promise<Qid> {
  return c.request(Op.MKDIR, (w) => w.u32(dfid).str(name).u32(mode).u32(0), (r) => r.qid(), path);
}

/** Tunlinkat dirfd name flags -> Runlinkat. */
export function unlinkat(c: NinepClient, dfid: number, name: string, flags: number, path = ""): Promise<void> {
  return c.request(Op.UNLINKAT, (w) => w.u32(dfid).str(name).u32(flags), () => undefined, path);
}

/** Trenameat olddirfid oldname newdirfid newname -> Rrenameat. */
export function renameat(c: NinepClient, oldDir: number, oldName: string, newDir: number, newName: string, path = ""): Promise<void> {
  return c.request(Op.RENAMEAT, (w) => w.u32(oldDir).str(oldName).u32(newDir).str(newName), () => undefined, path);
}

/** Tfsync fid datasync -> Rfsync. */
export function fsync(c: NinepClient, fid: number, path = ""): Promise<void> {
  return c.request(Op.FSYNC, (w) => w.u32(fid).u32(0), () => undefined, path);
}

/** Tclunk fid -> Rclunk: the fid is free again (also after an Rlerror, 9P semantics). */
export function clunk(c: NinepClient, fid: number, path = ""): Promise<void> {
  return c.request(Op.CLUNK, (w) => w.u32(fid), () => undefined, path);
}
