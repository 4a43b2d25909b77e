// The guest-request queue's messages (VIRTIO 1.2 §5.15.6): struct virtio_mem_req written into
// the request half of one DMA buffer, struct virtio_mem_resp read from its response half,
// the response's length and values checked before anything is believed.

import type { DmaBuffer } from "../../platform/platform.js";
import {
  MemRequest, MemResponse, REQ_ADDR, REQ_NB_BLOCKS, REQ_TYPE, REQUEST_BYTES,
  RESP_STATE, RESP_TYPE, RESPONSE_BYTES, type BlockState,
} from "./mem-spec.js";
import { MemDeviceError } from "./errors.js";

export interface MemOptions {
  /** A BUSY answer, or a target out of reach, is tried again after this long. Default 200 ms. */
  readonly retryMs?: number;
}

/** One request: what it asks, and for STATE requests of the application, its promise. */
export interface MemOp {
  readonly type: number;
  readonly addr: number;
  readonly blocks: number;
  readonly resolve?: (state: BlockState) => void;
  readonly reject?: (error: Error) => void;
}

export interface MemStats {
  readonly plugRequests: number;
  readonly unplugRequests: number;
  readonly unplugAllRequests: number;
  readonly stateRequests: number;
  readonly nacks: number;
  readonly busy: number;
  readonly errors: number;
  readonly configChanges: number;
}

export function requestName(type: number): string {
  return ["PLUG", "UNPLUG", "UNPLUG_ALL", "STATE"][type] ?? `type ${type}`;
}

/** Writes `op` into the request half of `buffer` (all fields little-endian, §5.15.6). */
export function writeRequest(buffer: DmaBuffer, op: MemOp): void {
  const v = buffer.view;
  buffer.bytes.fill(0);
  v.setUint16(REQ_TYPE, op.type, true);
  if (op.type !== MemRequest.UNPLUG_ALL) {
    v.setBigUint64(REQ_ADDR, BigInt(op.addr), true);
    v.setUint16(REQ_NB_BLOCKS, op.blocks, true);
  }
}

/** The two descriptors of a request in `buffer`: the request, then the device-written response. */
export function requestChain(buffer: DmaBuffer): { out: { phys: number; len: number }[]; in: { phys: number; len: number }[] } {
  return {
    out: [{ phys: buffer.phys, len: REQUEST_BYTES }],
    in: [{ phys: buffer.phys + REQUEST_BYTES, len: RESPONSE_BYTES }],
  };
}

/** The response's type (checked), given the used length the device reported. */
export function responseType(buffer: DmaBuffer, op: MemOp, len: number, location: string): number {
  const need = op.type === MemRequest.STATE ? RESPONSE_BYTES : 2;
  if (len < need) throw new MemDeviceError(location, `response of ${len} byte(s) to a ${requestName(op.type)} request (${need} needed)`);
  const type = buffer.view.getUint16(REQUEST_BYTES + RESP_TYPE, true);
  if (type > MemResponse.ERROR) throw new MemDeviceError(location, `response type ${type} is none of ACK, NACK, BUSY, ERROR`);
  return type;
}

/** The state in an ACKed STATE response (checked: 0 plugged, 1 unplugged, 2 mixed). */
export function responseState(buffer: DmaBuffer, location: string): number {
  const state = buffer.view.getUint16(REQUEST_BYTES + RESP_STATE, true);
  if (state > 2) throw new MemDeviceError(location, `STATE answer ${state} is none of plugged, unplugged, mixed`);
  return state;
}
