// virtio-9p (device ID 9) serving 9P2000.L from an in-memory file tree, strict. One
// request queue; each chain must hold exactly one T-message (its size field = the
// readable bytes) and room for the R-message in its writable part, as QEMU's hw/9pfs
// takes them. Config: le16 tag_len + the mount tag (VIRTIO_9P_F_MOUNT_TAG offered).
//
// What it checks (violation rules): a message whose size is not its chain's readable
// length or exceeds msize, a request before Tversion, Tversion not on NOTAG or another
// request on NOTAG, a tag already in flight, unknown fids, a newfid or an attach fid in
// use, opening an open fid, Tread / Treaddir counts beyond msize, a Twrite whose count is
// not its data, a reply without room, malformed messages.
// Faults (`inject`): the next reply with a wrong tag, cut short, or an Rlerror errno.

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";
import { NinepReply, NinepRequestReader, MalformedMessage } from "./ninep-wire.js";
import { NinepTree, type TreeNode } from "./ninep-tree.js";

export const VIRTIO_ID_9P = 9;
const NOTAG = 0xffff;
const E = { ENOENT: 2, EBADF: 9, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOTEMPTY: 39, EOPNOTSUPP: 95 } as const;
const AT_REMOVEDIR = 0x200;
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;

export type NinepFault = "wrong-tag" | "short-reply" | { readonly errno: number; readonly type?: number };

export interface NinepDeviceOptions {
  readonly mountTag?: string;
  /** Largest msize granted (default 65536). */
  readonly maxMsize?: number;
  /** Completes requests this many turns after taking them (0 = same turn). */
  readonly delayTurns?: number;
  /** Completes the chains of one batch in reverse order. */
  readonly outOfOrder?: boolean;
  readonly queueMaxSize?: number;
}

interface Fid {
  node: TreeNode;
  /** Open flags after Tlopen / Tlcreate, null while not open. */
  open: number | null;
}

export class NinepDevice implements DeviceModel {
  readonly deviceId = VIRTIO_ID_9P;
  readonly name = "9p";
  readonly features = 1n; // VIRTIO_9P_F_MOUNT_TAG
  readonly queueCount = 1;
  readonly config: Uint8Array;
  readonly configFields: readonly ConfigField[];
  readonly tree = new NinepTree();
  /** msize agreed by Tversion; 0 before. */
  msize = 0;
  /** Requests served, by T-message type. */
  readonly served = new Map<number, number>();
  /** Most tags in flight at once. */
  maxTagsInFlight = 0;
  readonly fids = new Map<number, Fid>();
  readonly #faults: NinepFault[] = [];
  readonly #tags = new Set<number>();
  readonly #options: NinepDeviceOptions;
  #ctx: DeviceContext | null = null;

  constructor(options: NinepDeviceOptions = {}) {
    this.#options = options;
    const tag = new TextEncoder().encode(options.mountTag ?? "host");
    this.config = new Uint8Array(2 + tag.length);
    new DataView(this.config.buffer).setUint16(0, tag.length, true);
    this.config.set(tag, 2);
    const fields: ConfigField[] = [{ name: "tag_len", offset: 0, width: 2 }];
    for (let i = 0; i < tag.length; i++) fields.push({ name: `tag[${i}]`, offset: 2 + i, width: 1 });
    this.configFields = fields;
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 128;
  }

  /** The next reply (in serving order) carries this fault. */
  inject(fault: NinepFault): void {
    this.#faults.push(fault);
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {
    this.msize = 0;
    this.fids.clear();
    this.#tags.clear();
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    const batch: [DeviceChain, Uint8Array, number][] = [];
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      const served = this.#serve(ctx, chain);
      if (served === null) {
        ctx.complete(chain, 0);
        continue;
      }
      batch.push([chain, served.reply, served.tag]);
    }
    if (this.#tags.size > this.maxTagsInFlight) this.maxTagsInFlight = this.#tags.size;
    if (batch.length === 0) return;
    if (this.#options.outOfOrder) batch.reverse();
    const finish = (): void => {
      for (const [chain, reply, tag] of batch) {
        this.#tags.delete(tag);
        if (reply.length > chain.writableLength) {
          ctx.violation("9p-reply-room", `reply of ${reply.length} bytes, request ${chain.head} gave ${chain.writableLength}`);
          ctx.complete(chain, 0);
          continue;
        }
        ctx.complete(chain, chain.write(reply));
      }
    };
    const delay = this.#options.delayTurns ?? 0;
    if (delay > 0) ctx.later(finish, delay);
    else finish();
  }

  /** One request: checks, runs it, returns the (possibly faulted) reply. */
  #serve(ctx: DeviceContext, chain: DeviceChain): { reply: Uint8Array; tag: number } | null {
    const bytes = chain.read();
    if (bytes.length < 7) {
      ctx.violation("9p-malformed", `request ${chain.head}: ${bytes.length} readable bytes (a header is 7)`);
      return null;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = view.getUint32(0, true);
    const type = view.getUint8(4);
    const tag = view.getUint16(5, true);
    if (size !== bytes.length) ctx.violation("9p-size", `T-message size ${size}, chain ${chain.head} has ${bytes.length} readable bytes`);
    if (this.msize !== 0 && size > this.msize) ctx.violation("9p-msize", `T-message of ${size} bytes, msize ${this.msize}`);
    if (this.#tags.has(tag)) ctx.violation("9p-tag-in-use", `tag ${tag} already in flight`);
    if (type === 100 && tag !== NOTAG) ctx.violation("9p-version-tag", `Tversion with tag ${tag} (must be NOTAG)`);
    if (type !== 100 && tag === NOTAG) ctx.violation("9p-notag", `type ${type} with NOTAG`);
    if (type !== 100 && this.msize === 0) ctx.violation("9p-no-version", `type ${type} before Tversion`);
    this.#tags.add(tag);
    this.served.set(type, (this.served.get(type) ?? 0) + 1);
    const reply = new NinepReply(type + 1, tag);
    try {
      const errno = this.#run(ctx, type, new NinepRequestReader(bytes.subarray(0, Math.min(size, bytes.length))), reply);
      if (errno !== 0) reply.error(errno);
    } catch (error) {
      if (!(error instanceof MalformedMessage)) throw error;
      ctx.violation("9p-malformed", `type ${type}: ${error.message}`);
      reply.error(E.EINVAL);
    }
    let out = reply.finish();
    const fault = this.#faults.find((f) => typeof f === "string" || f.type === undefined || f.type === type);
    if (fault !== undefined) {
      this.#faults.splice(this.#faults.indexOf(fault), 1);
      if (fault === "wrong-tag") new DataView(out.buffer).setUint16(5, (tag + 1) & 0xffff, true);
      else if (fault === "short-reply") out = out.subarray(0, Math.max(7, out.length - 2));
      else out = new NinepReply(type + 1, tag).error(fault.errno).finish();
    }
    return { reply: out, tag };
  }

  #fid(ctx: DeviceContext, fid: number): Fid | null {
    const f = this.fids.get(fid);
    if (f === undefined) ctx.violation("9p-fid-unknown", `fid ${fid} is not in use`);
    return f ?? null;
  }

  /** Runs one request, writing its reply body; returns an errno for Rlerror (0 = ok). */
  #run(ctx: DeviceContext, type: number, r: NinepRequestReader, out: NinepReply): number {
    switch (type) {
      case 100: { // Tversion msize version
        const asked = r.u32();
        const version = r.str();
        this.fids.clear();
        this.msize = Math.min(asked, this.#options.maxMsize ?? 65536);
        out.u32(this.msize).str(version === "9P2000.L" ? version : "unknown");
        return 0;
      }
      case 104: { // Tattach fid afid uname aname n_uname
        const fid = r.u32();
        r.u32(); r.str(); r.str(); r.u32();
        if (this.fids.has(fid)) ctx.violation("9p-fid-in-use", `Tattach fid ${fid} in use`);
        this.fids.set(fid, { node: this.tree.root, open: null });
        out.qid(this.tree.root);
        return 0;
      }
      case 110: { // Twalk fid newfid nwname wname*
        const fid = r.u32();
        const newfid = r.u32();
        const n = r.u16();
        const names: string[] = [];
        for (let i = 0; i < n; i++) names.push(r.str());
        const f = this.#fid(ctx, fid);
        if (f === null) return E.EBADF;
        if (newfid !== fid && this.fids.has(newfid)) ctx.violation("9p-fid-in-use", `Twalk newfid ${newfid} in use`);
        if (n > 16) ctx.violation("9p-malformed", `Twalk of ${n} names`);
        const qids: TreeNode[] = [];
        let node = f.node;
        for (const name of names) {
          const next = node.children?.get(name);
          if (next === undefined) break;
          qids.push(next);
          node = next;
        }
        if (n > 0 && qids.length === 0) return E.ENOENT;
        if (qids.length === n) this.fids.set(newfid, { node, open: null });
        out.u16(qids.length);
        for (const q of qids) out.qid(q);
        return 0;
      }
      case 24: { // Tgetattr fid mask
        const f = this.#fid(ctx, r.u32());
        r.u64();
        if (f === null) return E.EBADF;
        const node = f.node;
        out.u64(0x7ffn).qid(node).u32(node.children ? 0o40755 : 0o100644).u32(0).u32(0).u64(1n).u64(0n)
          .u64(BigInt(node.size)).u64(4096n).u64(BigInt(Math.ceil(node.size / 512)));
        for (let i = 0; i < 8; i++) out.u64(i % 2 === 0 ? BigInt(node.mtimeSec) : 0n); // a m c b times
        out.u64(0n).u64(0n);
        return 0;
      }
      case 12: { // Tlopen fid flags
        const f = this.#fid(ctx, r.u32());
        const flags = r.u32();
        if (f === null) return E.EBADF;
        if (f.open !== null) ctx.violation("9p-fid-open", "Tlopen of an open fid");
        if (f.node.children && (flags & O_ACCMODE) !== 0) return E.EISDIR;
        if (!f.node.children && (flags & O_TRUNC) !== 0) this.tree.truncate(f.node);
        f.open = flags;
        out.qid(f.node).u32(0);
        return 0;
      }
      case 14: { // Tlcreate fid name flags mode gid
        const f = this.#fid(ctx, r.u32());
        const name = r.str();
        const flags = r.u32();
        r.u32(); r.u32();
        if (f === null) return E.EBADF;
        if (f.open !== null) ctx.violation("9p-fid-open", "Tlcreate on an open fid");
        if (!f.node.children) return E.ENOTDIR;
        if (f.node.children.has(name)) return E.EEXIST;
        const node = this.tree.add(f.node, name, false);
        f.node = node;
        f.open = flags;
        out.qid(node).u32(0);
        return 0;
      }
      case 116: { // Tread fid offset count
        const f = this.#fid(ctx, r.u32());
        const offset = Number(r.u64());
        const count = r.u32();
        if (count > this.msize - 11) ctx.violation("9p-count", `Tread count ${count} > msize ${this.msize} - 11`);
        if (f === null) return E.EBADF;
        if (f.open === null || (f.open & O_ACCMODE) === O_WRONLY) return E.EBADF;
        if (f.node.children) return E.EISDIR;
        const data = this.tree.read(f.node, offset, count);
        out.u32(data.length).raw(data);
        return 0;
      }
      case 118: { // Twrite fid offset count data
        const f = this.#fid(ctx, r.u32());
        let offset = Number(r.u64());
        const count = r.u32();
        const data = r.rest();
        if (data.length !== count) ctx.violation("9p-count", `Twrite count ${count} with ${data.length} data bytes`);
        if (f === null) return E.EBADF;
        if (f.open === null || (f.open & O_ACCMODE) === 0) return E.EBADF;
        if ((f.open & O_APPEND) !== 0) offset = f.node.size;
        this.tree.write(f.node, offset, data);
        out.u32(data.length);
        return 0;
      }
      case 40: { // Treaddir fid offset count
        const f = this.#fid(ctx, r.u32());
        const offset = Number(r.u64());
        const count = r.u32();
        if (count > this.msize - 11) ctx.violation("9p-count", `Treaddir count ${count} > msize ${this.msize} - 11`);
        if (f === null) return E.EBADF;
        if (f.open === null) return E.EBADF;
        if (!f.node.children) return E.ENOTDIR;
        const entries: [string, TreeNode][] = [[".", f.node], ["..", f.node.parent ?? f.node], ...f.node.children];
        const body = new NinepReply(0, 0);
        for (let i = offset; i < entries.length; i++) {
          const [name, node] = entries[i]!;
          const entry = new NinepReply(0, 0).qid(node).u64(BigInt(i + 1)).u8(node.children ? 4 : 8).str(name).body();
          if (body.length + entry.length > count) break;
          body.raw(entry);
        }
        out.u32(body.length).raw(body.body());
        return 0;
      }
      case 72: { // Tmkdir dfid name mode gid
        const f = this.#fid(ctx, r.u32());
        const name = r.str();
        r.u32(); r.u32();
        if (f === null) return E.EBADF;
        if (!f.node.children) return E.ENOTDIR;
        if (f.node.children.has(name)) return E.EEXIST;
        out.qid(this.tree.add(f.node, name, true));
        return 0;
      }
      case 76: { // Tunlinkat dirfd name flags
        const f = this.#fid(ctx, r.u32());
        const name = r.str();
        const flags = r.u32();
        if (f === null) return E.EBADF;
        const node = f.node.children?.get(name);
        if (node === undefined) return E.ENOENT;
        if (node.children && (flags & AT_REMOVEDIR) === 0) return E.EISDIR;
        if (!node.children && (flags & AT_REMOVEDIR) !== 0) return E.ENOTDIR;
        if (node.children && node.children.size > 0) return E.ENOTEMPTY;
        this.tree.remove(node);
        return 0;
      }
      case 74: { // Trenameat olddirfid oldname newdirfid newname
        const from = this.#fid(ctx, r.u32());
        const oldName = r.str();
        const to = this.#fid(ctx, r.u32());
        const newName = r.str();
        if (from === null || to === null) return E.EBADF;
        const node = from.node.children?.get(oldName);
        if (node === undefined) return E.ENOENT;
        if (!to.node.children) return E.ENOTDIR;
        this.tree.move(node, to.node, newName);
        return 0;
      }
      case 50: { // Tfsync fid datasync
        const f = this.#fid(ctx, r.u32());
        r.u32();
        if (f === null || f.open === null) return E.EBADF;
        return 0;
      }
      case 120: { // Tclunk fid
        const fid = r.u32();
        if (this.#fid(ctx, fid) === null) return E.EBADF;
        this.fids.delete(fid);
        return 0;
      }
      default:
        return E.EOPNOTSUPP;
    }
  }
}
