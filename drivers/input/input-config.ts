// Reading what a virtio input device is (VIRTIO 1.2 §5.8.5): the driver writes select and
// subsel (the only fields it may write, §5.8.5.1), then reads size and up to size bytes of
// the union, in one generation-checked read. Every answer is checked: size ≤ 128, devids
// exactly 8 bytes, absinfo exactly 20 with min ≤ max; a bad one is an InputConfigError.

import type { VirtioDevice } from "../virtio/device.js";
import { ABSINFO_SIZE, DEVIDS_SIZE, EV_MAX, InputConfig, InputConfigSelect } from "./constants.js";
import { EV } from "./event-codes.js";
import { InputConfigError } from "./errors.js";

/** struct virtio_input_devids. */
export interface InputIds {
  readonly bustype: number;
  readonly vendor: number;
  readonly product: number;
  readonly version: number;
}

/** struct virtio_input_absinfo (signed 32-bit values as evdev has them). */
export interface AbsInfo {
  readonly min: number;
  readonly max: number;
  readonly fuzz: number;
  readonly flat: number;
  readonly res: number;
}

/** What the device said about itself at probe. */
export interface InputInfo {
  readonly name: string;
  readonly serial: string;
  /** null when the device does not give ID_DEVIDS (size 0). */
  readonly ids: InputIds | null;
  /** INPUT_PROP_* numbers set in PROP_BITS. */
  readonly props: readonly number[];
  /** Event type -> the codes it supports, for every type with a non-empty EV_BITS answer. */
  readonly bits: ReadonlyMap<number, readonly number[]>;
  /** Absolute axis -> its range, for every axis in bits[EV_ABS]. */
  readonly abs: ReadonlyMap<number, AbsInfo>;
}

/** How a union answer is laid out: its fields' width, and the only size it may have. */
export interface Shape {
  readonly width: 1 | 2 | 4;
  /** The exact size a non-empty answer must have (devids 8, absinfo 20). */
  readonly size?: number;
  readonly what?: string;
}

const BYTES: Shape = { width: 1 };

/**
 * Writes select/subsel and returns the `size` bytes of the union (empty if unsupported),
 * read with accesses of the fields' width (§4.2.2.2: 16-bit fields by 16-bit reads).
 */
export function queryConfig(device: VirtioDevice, select: number, subsel: number, shape: Shape = BYTES): Uint8Array {
  // §5.8.5.1: the driver MUST set both select and subsel, in any order.
  device.writeConfig8(InputConfig.SELECT, select);
  device.writeConfig8(InputConfig.SUBSEL, subsel);
  return device.readConfig((c) => {
    const size = c.u8(InputConfig.SIZE);
    // §5.8.5.1: check size before reading; it can never exceed the 128-byte union.
    if (size > InputConfig.U_MAX) throw new InputConfigError(device.location, select, subsel, size, `more than the ${InputConfig.U_MAX}-byte union`);
    if (size !== 0 && shape.size !== undefined && size !== shape.size) {
      throw new InputConfigError(device.location, select, subsel, size, `${shape.what} must be ${shape.size} bytes`);
    }
    // Fields are read whole (§4.2.2.2): a size that cuts the last one is the device's error.
    if (size % shape.width !== 0) {
      throw new InputConfigError(device.location, select, subsel, size, `not a multiple of the ${shape.width}-byte field width`);
    }
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    for (let at = 0; at < size; at += shape.width) {
      if (shape.width === 1) bytes[at] = c.u8(InputConfig.U + at);
      else if (shape.width === 2) view.setUint16(at, c.u16(InputConfig.U + at), true);
      else view.setUint32(at, c.u32(InputConfig.U + at), true);
    }
    return bytes;
  });
}

/** Every set bit of a bitmap, as numbers (bit n of byte n>>3). */
export function bitmapToList(bitmap: Uint8Array): number[] {
  const list: number[] = [];
  for (let i = 0; i < bitmap.length; i++) {
    const byte = bitmap[i]!;
    if (byte === 0) continue;
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) list.push(i * 8 + b);
  }
  return list;
}

/** A name or serial: bytes up to the first NUL, non-printable ASCII shown as "?". */
function text(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    if (b === 0) break;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?";
  }
  return s;
}

function le16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

function le32s(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at, true);
}

/** Reads name, serial, ids, props, event bits and the abs ranges (§5.8.5). */
export function readInputInfo(device: VirtioDevice): InputInfo {
  const where = device.location;
  const S = InputConfigSelect;
  const name = text(queryConfig(device, S.ID_NAME, 0));
  const serial = text(queryConfig(device, S.ID_SERIAL, 0));
  const idBytes = queryConfig(device, S.ID_DEVIDS, 0, { width: 2, size: DEVIDS_SIZE, what: "devids" });
  const ids =
    idBytes.length === 0
      ? null
      : { bustype: le16(idBytes, 0), vendor: le16(idBytes, 2), product: le16(idBytes, 4), version: le16(idBytes, 6) };
  const props = bitmapToList(queryConfig(device, S.PROP_BITS, 0));
  const bits = new Map<number, readonly number[]>();
  for (let type = 0; type <= EV_MAX; type++) {
    const bitmap = queryConfig(device, S.EV_BITS, type);
    if (bitmap.length > 0) bits.set(type, bitmapToList(bitmap));
  }
  const abs = new Map<number, AbsInfo>();
  for (const axis of bits.get(EV.ABS) ?? []) {
    const b = queryConfig(device, S.ABS_INFO, axis, { width: 4, size: ABSINFO_SIZE, what: "absinfo" });
    if (b.length === 0) throw new InputConfigError(where, S.ABS_INFO, axis, 0, "no absinfo for an axis listed in EV_BITS(EV_ABS)");
    const info = { min: le32s(b, 0), max: le32s(b, 4), fuzz: le32s(b, 8), flat: le32s(b, 12), res: le32s(b, 16) };
    if (info.min > info.max) throw new InputConfigError(where, S.ABS_INFO, axis, b.length, `min ${info.min} above max ${info.max}`);
    abs.set(axis, info);
  }
  return { name, serial, ids, props, bits, abs };
}
