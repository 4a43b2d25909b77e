// The device configuration space as the register file serves it (§2.5, §4.2.2.2):
// little-endian reads and writes at offsets from 0x100, checked against the device
// model's field list (width, alignment, writability) and the space's size.

import type { ConfigField, DeviceModel } from "./device-model.js";
import type { MmioWidth } from "./mmio-bus.js";

/** Records a violation (rule id, message). */
export type Report = (rule: string, message: string) => void;

const hex = (n: number): string => `0x${n.toString(16)}`;

export class ConfigSpace {
  readonly #device: DeviceModel;
  readonly #report: Report;

  constructor(device: DeviceModel, report: Report) {
    this.#device = device;
    this.#report = report;
  }

  #bytes(): Uint8Array {
    return this.#device.config ?? new Uint8Array(0);
  }

  /** The field an access falls in, with the width rule checked (8-byte fields: 32-bit halves). */
  #field(offset: number, width: MmioWidth, dir: string): ConfigField | null {
    const fields = this.#device.configFields;
    if (!fields) {
      if (offset % width !== 0) this.#report("config-access-width", `${width * 8}-bit config ${dir} at ${hex(offset)} is unaligned`);
      return null;
    }
    const f = fields.find((x) => offset >= x.offset && offset < x.offset + x.width) ?? null;
    const expected = f ? Math.min(f.width, 4) : 0;
    if (f && (width !== expected || (offset - f.offset) % width !== 0)) {
      this.#report("config-access-width", `${width * 8}-bit config ${dir} at ${hex(offset)} into ${f.width * 8}-bit field ${f.name}: use ${expected * 8}-bit aligned accesses (§4.2.2.2)`);
    }
    return f;
  }

  read(offset: number, width: MmioWidth): number {
    const config = this.#bytes();
    if (offset + width > config.length) {
      this.#report("config-out-of-range", `config read of ${width} byte(s) at ${hex(offset)}; the config space is ${config.length} bytes`);
      return width === 4 ? 0xffff_ffff : (1 << (width * 8)) - 1;
    }
    this.#field(offset, width, "read");
    this.#device.configRead?.(offset, width);
    const bytes = this.#bytes();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return width === 1 ? view.getUint8(offset) : width === 2 ? view.getUint16(offset, true) : view.getUint32(offset, true);
  }

  write(offset: number, width: MmioWidth, value: number): void {
    const config = this.#bytes();
    if (offset + width > config.length) {
      this.#report("config-out-of-range", `config write of ${width} byte(s) at ${hex(offset)}; the config space is ${config.length} bytes`);
      return;
    }
    const field = this.#field(offset, width, "write");
    const accepted = (!field || field.writable === true) && this.#device.writeConfig?.(offset, width, value) === true;
    if (!accepted) {
      this.#report("config-read-only", `config write of ${hex(value)} at ${hex(offset)}${field ? ` (${field.name})` : ""}, which the device does not accept`);
    }
  }
}
