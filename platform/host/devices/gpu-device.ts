// virtio-gpu in 2D mode (VIRTIO 1.2 §5.7), strict. Queues: controlq 0, cursorq 1. Config:
// events_read, events_clear (write-to-clear), num_scanouts, num_capsets (0). Each resource
// keeps a host-side copy of its pixels, updated by TRANSFER_TO_HOST_2D from its backing
// in guest memory, so a test reads what the scanout shows with `pixel(x, y)`.
//
// What it checks (violation rules, each also answered with the ERR_* QEMU gives): request
// sizes not those of the command (`gpu-request-size`), a response buffer too small or
// missing (`gpu-response-buffer`), resource id 0 or in use at creation, unknown resource
// ids (`gpu-resource-id`), backing outside guest memory or too small for the resource
// (`gpu-backing`), a second backing, transfer or flush rectangles outside the resource or
// beyond its backing (`gpu-rect`), scanout of an unknown resource or scanout id
// (`gpu-scanout`), GET_EDID without F_EDID (`gpu-edid`), unknown formats and commands.
// Faults: `failNext` (answer a command with an ERR_*), `wrongType`, `noFenceEcho`,
// `shortResponse`, `hold` (control responses held until `release()`).

import type { DeviceChain } from "../chain.js";
import type { ConfigField, DeviceContext, DeviceModel } from "../device-model.js";

export const VIRTIO_ID_GPU = 16;

const F_EDID = 1;
const HDR = 24;
const FLAG_FENCE = 1;
const MAX_SCANOUTS = 16;

const CMD = {
  GET_DISPLAY_INFO: 0x0100, RESOURCE_CREATE_2D: 0x0101, RESOURCE_UNREF: 0x0102, SET_SCANOUT: 0x0103,
  RESOURCE_FLUSH: 0x0104, TRANSFER_TO_HOST_2D: 0x0105, RESOURCE_ATTACH_BACKING: 0x0106,
  RESOURCE_DETACH_BACKING: 0x0107, GET_EDID: 0x010a, UPDATE_CURSOR: 0x0300, MOVE_CURSOR: 0x0301,
} as const;
const RESP = {
  OK_NODATA: 0x1100, OK_DISPLAY_INFO: 0x1101, OK_EDID: 0x1104, ERR_UNSPEC: 0x1200,
  ERR_INVALID_SCANOUT_ID: 0x1202, ERR_INVALID_RESOURCE_ID: 0x1203, ERR_INVALID_PARAMETER: 0x1205,
} as const;
/** Request sizes (attach_backing: plus 16 per entry). */
const REQUEST_SIZE: Readonly<Record<number, number>> = {
  [CMD.GET_DISPLAY_INFO]: 24, [CMD.RESOURCE_CREATE_2D]: 40, [CMD.RESOURCE_UNREF]: 32, [CMD.SET_SCANOUT]: 48,
  [CMD.RESOURCE_FLUSH]: 48, [CMD.TRANSFER_TO_HOST_2D]: 56, [CMD.RESOURCE_ATTACH_BACKING]: 32,
  [CMD.RESOURCE_DETACH_BACKING]: 32, [CMD.GET_EDID]: 32, [CMD.UPDATE_CURSOR]: 56, [CMD.MOVE_CURSOR]: 56,
};
const FORMATS = new Set([1, 2, 3, 4, 67, 68, 121, 134]);

const FIELDS: readonly ConfigField[] = [
  { name: "events_read", offset: 0, width: 4 },
  { name: "events_clear", offset: 4, width: 4, writable: true },
  { name: "num_scanouts", offset: 8, width: 4 },
  { name: "num_capsets", offset: 12, width: 4 },
];

export interface GpuDeviceOptions {
  /** Size of scanout 0 (default 640x480). */
  readonly width?: number;
  readonly height?: number;
  /** Offer VIRTIO_GPU_F_EDID (default true, as QEMU). */
  readonly edid?: boolean;
  /** num_scanouts (default 1). */
  readonly scanouts?: number;
}

export interface GpuRectRecord { readonly x: number; readonly y: number; readonly width: number; readonly height: number }

export interface GpuResourceModel {
  readonly id: number;
  readonly format: number;
  readonly width: number;
  readonly height: number;
  backing: { addr: number; len: number }[] | null;
  /** The host copy: width x height pixels as little-endian 32-bit words. */
  readonly host: Uint32Array;
}

export interface GpuFaults {
  /** The next command of this type is answered with `response` (an ERR_*). */
  failNext: { command: number; response: number } | null;
  /** Answer OK_DISPLAY_INFO where OK_NODATA is due. */
  wrongType: boolean;
  /** Fenced commands are answered without the fence flag. */
  noFenceEcho: boolean;
  /** Responses are written 8 bytes short. */
  shortResponse: boolean;
  /** Control responses are held until release(). */
  hold: boolean;
}

export class GpuDevice implements DeviceModel {
  readonly deviceId = VIRTIO_ID_GPU;
  readonly name = "gpu";
  readonly features: bigint;
  readonly queueCount = 2;
  readonly config = new Uint8Array(16);
  readonly configFields = FIELDS;
  readonly resources = new Map<number, GpuResourceModel>();
  /** Per scanout: the resource shown (0 none) and the rectangle of it. */
  readonly scanouts: { resource: number; rect: GpuRectRecord; width: number; height: number }[] = [];
  readonly transfers: GpuRectRecord[] = [];
  readonly flushes: GpuRectRecord[] = [];
  readonly commands = new Map<number, number>();
  readonly fencesSeen: bigint[] = [];
  cursor = { resource: 0, x: 0, y: 0, hotX: 0, hotY: 0, updates: 0, moves: 0 };
  readonly faults: GpuFaults = { failNext: null, wrongType: false, noFenceEcho: false, shortResponse: false, hold: false };
  readonly #view = new DataView(this.config.buffer);
  readonly #held: { chain: DeviceChain; resp: Uint8Array }[] = [];
  #ctx: DeviceContext | null = null;

  constructor(options: GpuDeviceOptions = {}) {
    this.features = options.edid ?? true ? 1n << BigInt(F_EDID) : 0n;
    const n = options.scanouts ?? 1;
    this.#view.setUint32(8, n, true);
    for (let i = 0; i < n; i++) this.scanouts.push({ resource: 0, rect: { x: 0, y: 0, width: 0, height: 0 }, width: i === 0 ? options.width ?? 640 : 0, height: i === 0 ? options.height ?? 480 : 0 });
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {
    // §2.4: the device forgets every resource and every buffer.
    this.resources.clear();
    for (const s of this.scanouts) { s.resource = 0; s.rect = { x: 0, y: 0, width: 0, height: 0 }; }
    this.#held.length = 0;
    this.cursor = { resource: 0, x: 0, y: 0, hotX: 0, hotY: 0, updates: 0, moves: 0 };
    this.#view.setUint32(0, 0, true);
  }

  writeConfig(offset: number, width: number, value: number): boolean {
    if (offset !== 4 || width !== 4) return false;
    this.#view.setUint32(0, this.#view.getUint32(0, true) & ~value, true); // §5.7.4 write-to-clear
    return true;
  }

  /** The display changed size: a display event (§5.7.4), as QEMU on a window resize. */
  resize(width: number, height: number, scanout = 0): void {
    const s = this.scanouts[scanout]!;
    s.width = width;
    s.height = height;
    this.#view.setUint32(0, this.#view.getUint32(0, true) | 1, true);
    this.#ctx?.configChanged();
  }

  get eventsRead(): number {
    return this.#view.getUint32(0, true);
  }

  /** What scanout `scanout` shows at (x, y), as 0x00RRGGBB, or null when it shows nothing. */
  pixel(x: number, y: number, scanout = 0): number | null {
    const s = this.scanouts[scanout];
    const r = s === undefined ? undefined : this.resources.get(s.resource);
    if (s === undefined || r === undefined) return null;
    return r.host[(s.rect.y + y) * r.width + s.rect.x + x]! & 0xffffff;
  }

  /** Sends the held control responses. */
  release(): void {
    for (const { chain, resp } of this.#held.splice(0)) this.#ctx?.complete(chain, chain.write(resp));
  }

  count(command: number): number {
    return this.commands.get(command) ?? 0;
  }

  process(queue: number): void {
    const ctx = this.#ctx!;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (queue === 0) this.#control(chain);
      else this.#cursorCommand(chain);
    }
  }

  #cursorCommand(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    const req = chain.read();
    const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const type = req.length >= 4 ? v.getUint32(0, true) : 0;
    this.commands.set(type, this.count(type) + 1);
    if (req.length !== 56) ctx.violation("gpu-request-size", `cursor request of ${req.length} bytes, not 56 (§5.7.6.10)`);
    else if (type === CMD.UPDATE_CURSOR || type === CMD.MOVE_CURSOR) {
      if (v.getUint32(24, true) >= this.scanouts.length) ctx.violation("gpu-scanout", `cursor on scanout ${v.getUint32(24, true)}`);
      this.cursor.x = v.getUint32(28, true);
      this.cursor.y = v.getUint32(32, true);
      if (type === CMD.UPDATE_CURSOR) {
        const id = v.getUint32(40, true);
        const r = this.resources.get(id);
        if (id !== 0 && (r === undefined || r.width !== 64 || r.height !== 64)) ctx.violation("gpu-resource-id", `UPDATE_CURSOR with resource ${id}, not a 64x64 resource`);
        this.cursor.resource = id;
        this.cursor.hotX = v.getUint32(44, true);
        this.cursor.hotY = v.getUint32(48, true);
        this.cursor.updates++;
      } else this.cursor.moves++;
    } else ctx.violation("gpu-unknown-command", `cursorq command 0x${type.toString(16)}`);
    if (chain.writableLength > 0) ctx.violation("gpu-response-buffer", `cursorq request with a device-writable buffer (no response on the cursorq)`);
    ctx.complete(chain, 0);
  }

  #control(chain: DeviceChain): void {
    const ctx = this.#ctx!;
    const req = chain.read();
    const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
    let resp = new Uint8Array(HDR);
    const answer = (type: number, body?: Uint8Array): void => {
      resp = new Uint8Array(HDR + (body?.length ?? 0));
      if (body) resp.set(body, HDR);
      new DataView(resp.buffer).setUint32(0, type, true);
    };
    if (req.length < HDR) {
      ctx.violation("gpu-request-size", `control request of ${req.length} bytes, shorter than the header`);
      answer(RESP.ERR_UNSPEC);
    } else {
      const type = v.getUint32(0, true);
      this.commands.set(type, this.count(type) + 1);
      const want = REQUEST_SIZE[type];
      const entries = type === CMD.RESOURCE_ATTACH_BACKING && req.length >= 32 ? v.getUint32(28, true) : 0;
      const size = want === undefined ? -1 : want + entries * 16;
      const fail = this.faults.failNext;
      if (want === undefined || type >= CMD.UPDATE_CURSOR) {
        ctx.violation("gpu-unknown-command", `control command 0x${type.toString(16)}`);
        answer(RESP.ERR_UNSPEC);
      } else if (req.length !== size) {
        ctx.violation("gpu-request-size", `command 0x${type.toString(16)} of ${req.length} bytes, not ${size}`);
        answer(RESP.ERR_UNSPEC);
      } else if (fail !== null && fail.command === type) {
        this.faults.failNext = null;
        answer(fail.response);
      } else {
        this.#execute(type, v, answer);
      }
      const rv = new DataView(resp.buffer);
      const flags = v.getUint32(4, true);
      if (this.faults.wrongType && rv.getUint32(0, true) === RESP.OK_NODATA) rv.setUint32(0, RESP.OK_DISPLAY_INFO, true);
      if ((flags & FLAG_FENCE) !== 0) {
        this.fencesSeen.push(v.getBigUint64(8, true));
        // §5.7.6.7: the response carries the fence flag and fence_id of the request.
        if (!this.faults.noFenceEcho) {
          rv.setUint32(4, FLAG_FENCE, true);
          rv.setBigUint64(8, v.getBigUint64(8, true), true);
        }
      }
    }
    if (chain.writableLength < resp.length) {
      ctx.violation("gpu-response-buffer", `response buffer of ${chain.writableLength} bytes, ${resp.length} needed`);
    }
    if (this.faults.shortResponse) resp = resp.subarray(0, resp.length - 8);
    if (this.faults.hold) this.#held.push({ chain, resp });
    else ctx.complete(chain, chain.write(resp));
  }

  #execute(type: number, v: DataView, answer: (type: number, body?: Uint8Array) => void): void {
    const ctx = this.#ctx!;
    const bad = (rule: string, resp: number, message: string): void => {
      ctx.violation(rule, message);
      answer(resp);
    };
    const rect = (at: number): GpuRectRecord => ({ x: v.getUint32(at, true), y: v.getUint32(at + 4, true), width: v.getUint32(at + 8, true), height: v.getUint32(at + 12, true) });
    const inside = (r: GpuRectRecord, res: GpuResourceModel): boolean => r.x + r.width <= res.width && r.y + r.height <= res.height;
    const resource = (id: number, what: string): GpuResourceModel | null => {
      const r = this.resources.get(id);
      if (r === undefined) bad("gpu-resource-id", RESP.ERR_INVALID_RESOURCE_ID, `${what} of unknown resource ${id}`);
      return r ?? null;
    };
    switch (type) {
      case CMD.GET_DISPLAY_INFO: {
        const body = new Uint8Array(MAX_SCANOUTS * 24);
        const b = new DataView(body.buffer);
        this.scanouts.forEach((s, i) => {
          b.setUint32(i * 24 + 8, s.width, true);
          b.setUint32(i * 24 + 12, s.height, true);
          b.setUint32(i * 24 + 16, s.width > 0 ? 1 : 0, true);
        });
        return answer(RESP.OK_DISPLAY_INFO, body);
      }
      case CMD.GET_EDID: {
        if (((ctx.driverFeatures >> BigInt(F_EDID)) & 1n) === 0n) return bad("gpu-edid", RESP.ERR_UNSPEC, "GET_EDID without VIRTIO_GPU_F_EDID");
        if (v.getUint32(24, true) >= this.scanouts.length) return bad("gpu-scanout", RESP.ERR_INVALID_SCANOUT_ID, `GET_EDID of scanout ${v.getUint32(24, true)}`);
        const body = new Uint8Array(8 + 1024);
        new DataView(body.buffer).setUint32(0, 128, true);
        body.set([0, 255, 255, 255, 255, 255, 255, 0], 8); // the EDID header
        return answer(RESP.OK_EDID, body);
      }
      case CMD.RESOURCE_CREATE_2D: {
        const id = v.getUint32(24, true);
        const format = v.getUint32(28, true);
        const width = v.getUint32(32, true);
        const height = v.getUint32(36, true);
        if (id === 0 || this.resources.has(id)) return bad("gpu-resource-id", RESP.ERR_INVALID_RESOURCE_ID, `RESOURCE_CREATE_2D with resource id ${id} ${id === 0 ? "(0 is reserved)" : "in use"}`);
        if (!FORMATS.has(format)) return bad("gpu-format", RESP.ERR_INVALID_PARAMETER, `RESOURCE_CREATE_2D with format ${format}`);
        if (width === 0 || height === 0 || width * height > 64 << 20) return bad("gpu-rect", RESP.ERR_INVALID_PARAMETER, `RESOURCE_CREATE_2D of ${width}x${height}`);
        this.resources.set(id, { id, format, width, height, backing: null, host: new Uint32Array(width * height) });
        return answer(RESP.OK_NODATA);
      }
      case CMD.RESOURCE_UNREF: {
        const r = resource(v.getUint32(24, true), "RESOURCE_UNREF");
        if (r === null) return;
        this.resources.delete(r.id);
        for (const s of this.scanouts) if (s.resource === r.id) s.resource = 0;
        return answer(RESP.OK_NODATA);
      }
      case CMD.RESOURCE_ATTACH_BACKING: {
        const r = resource(v.getUint32(24, true), "RESOURCE_ATTACH_BACKING");
        if (r === null) return;
        if (r.backing !== null) return bad("gpu-backing", RESP.ERR_UNSPEC, `resource ${r.id} already has a backing`);
        const n = v.getUint32(28, true);
        const backing = [];
        let total = 0;
        for (let i = 0; i < n; i++) {
          const addr = Number(v.getBigUint64(32 + i * 16, true));
          const len = v.getUint32(40 + i * 16, true);
          if (!ctx.memory.contains(addr, len)) return bad("gpu-backing", RESP.ERR_UNSPEC, `backing entry ${i} [0x${addr.toString(16)}, +${len}) is outside guest memory`);
          backing.push({ addr, len });
          total += len;
        }
        if (total < r.width * r.height * 4) return bad("gpu-backing", RESP.ERR_UNSPEC, `backing of ${total} bytes for a ${r.width}x${r.height} resource (${r.width * r.height * 4} needed)`);
        r.backing = backing;
        return answer(RESP.OK_NODATA);
      }
      case CMD.RESOURCE_DETACH_BACKING: {
        const r = resource(v.getUint32(24, true), "RESOURCE_DETACH_BACKING");
        if (r === null) return;
        if (r.backing === null) return bad("gpu-backing", RESP.ERR_UNSPEC, `resource ${r.id} has no backing to detach`);
        r.backing = null;
        return answer(RESP.OK_NODATA);
      }
      case CMD.SET_SCANOUT: {
        const r = rect(24);
        const index = v.getUint32(40, true);
        const id = v.getUint32(44, true);
        const s = this.scanouts[index];
        if (s === undefined) return bad("gpu-scanout", RESP.ERR_INVALID_SCANOUT_ID, `SET_SCANOUT of scanout ${index}`);
        if (id === 0) { s.resource = 0; return answer(RESP.OK_NODATA); } // disables the scanout
        const res = resource(id, "SET_SCANOUT");
        if (res === null) return;
        if (!inside(r, res) || r.width === 0 || r.height === 0) return bad("gpu-rect", RESP.ERR_INVALID_PARAMETER, `SET_SCANOUT rect ${JSON.stringify(r)} outside the ${res.width}x${res.height} resource`);
        s.resource = id;
        s.rect = r;
        return answer(RESP.OK_NODATA);
      }
      case CMD.TRANSFER_TO_HOST_2D: {
        const r = rect(24);
        const offset = Number(v.getBigUint64(40, true));
        const res = resource(v.getUint32(48, true), "TRANSFER_TO_HOST_2D");
        if (res === null) return;
        if (res.backing === null) return bad("gpu-backing", RESP.ERR_UNSPEC, `TRANSFER_TO_HOST_2D to resource ${res.id} without backing`);
        const stride = res.width * 4;
        const end = r.height === 0 ? offset : offset + (r.height - 1) * stride + r.width * 4;
        const size = res.backing.reduce((n, b) => n + b.len, 0);
        if (!inside(r, res) || end > size) return bad("gpu-rect", RESP.ERR_INVALID_PARAMETER, `TRANSFER_TO_HOST_2D rect ${JSON.stringify(r)} offset ${offset} outside the ${res.width}x${res.height} resource or its backing`);
        const bytes = this.#gather(res.backing, offset, end - offset);
        const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let y = 0; y < r.height; y++) {
          for (let x = 0; x < r.width; x++) res.host[(r.y + y) * res.width + r.x + x] = words.getUint32(y * stride + x * 4, true);
        }
        this.transfers.push(r);
        return answer(RESP.OK_NODATA);
      }
      case CMD.RESOURCE_FLUSH: {
        const r = rect(24);
        const res = resource(v.getUint32(40, true), "RESOURCE_FLUSH");
        if (res === null) return;
        if (!inside(r, res)) return bad("gpu-rect", RESP.ERR_INVALID_PARAMETER, `RESOURCE_FLUSH rect ${JSON.stringify(r)} outside the ${res.width}x${res.height} resource`);
        this.flushes.push(r);
        return answer(RESP.OK_NODATA);
      }
    }
  }

  /** `len` bytes of a backing from `offset` on, across its entries. */
  #gather(backing: readonly { addr: number; len: number }[], offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let skip = offset;
    let at = 0;
    for (const b of backing) {
      if (at >= len) break;
      if (skip >= b.len) { skip -= b.len; continue; }
      const n = Math.min(b.len - skip, len - at);
      out.set(this.#ctx!.memory.view(b.addr + skip, n), at);
      at += n;
      skip = 0;
    }
    return out;
  }
}
