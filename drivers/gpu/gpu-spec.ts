// The virtio GPU device in 2D mode (VIRTIO 1.2 §5.7): feature bits, queues, the
// configuration layout, command and response types, pixel formats and the sizes of the
// structures this driver sends and receives, in the spec's names. All little-endian.

/** §5.7.3 feature bits. */
export const GpuFeature = {
  /** 3D mode (virgl); not used by this driver. */
  VIRGL: 0,
  /** GET_EDID is supported. */
  EDID: 1,
} as const;

/** §5.7.2 virtqueues. */
export const GpuQueue = { CONTROL: 0, CURSOR: 1 } as const;

/** §5.7.4 struct virtio_gpu_config. */
export const GpuConfig = {
  EVENTS_READ: 0,
  /** Write-to-clear: a bit written 1 clears that bit of events_read. */
  EVENTS_CLEAR: 4,
  NUM_SCANOUTS: 8,
  NUM_CAPSETS: 12,
} as const;

/** §5.7.4: events_read bit: the display configuration changed. */
export const GPU_EVENT_DISPLAY = 1 << 0;

/** §5.7.6.7 enum virtio_gpu_ctrl_type. */
export const GpuCmd = {
  GET_DISPLAY_INFO: 0x0100,
  RESOURCE_CREATE_2D: 0x0101,
  RESOURCE_UNREF: 0x0102,
  SET_SCANOUT: 0x0103,
  RESOURCE_FLUSH: 0x0104,
  TRANSFER_TO_HOST_2D: 0x0105,
  RESOURCE_ATTACH_BACKING: 0x0106,
  RESOURCE_DETACH_BACKING: 0x0107,
  GET_CAPSET_INFO: 0x0108,
  GET_CAPSET: 0x0109,
  GET_EDID: 0x010a,
  UPDATE_CURSOR: 0x0300,
  MOVE_CURSOR: 0x0301,
} as const;

/** §5.7.6.7 response types. */
export const GpuResp = {
  OK_NODATA: 0x1100,
  OK_DISPLAY_INFO: 0x1101,
  OK_CAPSET_INFO: 0x1102,
  OK_CAPSET: 0x1103,
  OK_EDID: 0x1104,
  ERR_UNSPEC: 0x1200,
  ERR_OUT_OF_MEMORY: 0x1201,
  ERR_INVALID_SCANOUT_ID: 0x1202,
  ERR_INVALID_RESOURCE_ID: 0x1203,
  ERR_INVALID_CONTEXT_ID: 0x1204,
  ERR_INVALID_PARAMETER: 0x1205,
} as const;

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  [...Object.entries(GpuCmd), ...Object.entries(GpuResp)].map(([k, v]) => [v, k]),
);

/** The spec's name of a command or response type, or its hex value. */
export function gpuTypeName(type: number): string {
  return NAMES[type] ?? `0x${type.toString(16).padStart(4, "0")}`;
}

/** §5.7.6.7 struct virtio_gpu_ctrl_hdr flags. */
export const GPU_FLAG_FENCE = 1 << 0;

/** §5.7.6.8 enum virtio_gpu_formats (the 2D ones). */
export const GpuFormat = {
  B8G8R8A8_UNORM: 1,
  B8G8R8X8_UNORM: 2,
  A8R8G8B8_UNORM: 3,
  X8R8G8B8_UNORM: 4,
  R8G8B8A8_UNORM: 67,
  X8B8G8R8_UNORM: 68,
  A8B8G8R8_UNORM: 121,
  R8G8B8X8_UNORM: 134,
} as const;

/** Bytes per pixel of every 2D format. */
export const GPU_BYTES_PER_PIXEL = 4;

/** §5.7.6.8: at most 16 scanouts (VIRTIO_GPU_MAX_SCANOUTS). */
export const GPU_MAX_SCANOUTS = 16;

/** §5.7.6.10: cursor images are 64x64 pixels. */
export const GPU_CURSOR_SIZE = 64;

/**
 * Byte sizes of the structures (§5.7.6.7-§5.7.6.10): the header is 24 bytes (type, flags,
 * fence_id, ctx_id, ring_idx, 3 padding); a rectangle 16 bytes.
 */
export const GpuSize = {
  HDR: 24,
  RECT: 16,
  /** resp_display_info: hdr + 16 x { rect, enabled, flags }. */
  RESP_DISPLAY_INFO: 24 + GPU_MAX_SCANOUTS * 24,
  /** get_edid: hdr + scanout + padding. */
  GET_EDID: 32,
  /** resp_edid: hdr + size + padding + edid[1024]. */
  RESP_EDID: 24 + 8 + 1024,
  /** resource_create_2d: hdr + resource_id, format, width, height. */
  RESOURCE_CREATE_2D: 40,
  /** resource_unref: hdr + resource_id + padding. */
  RESOURCE_UNREF: 32,
  /** set_scanout: hdr + rect + scanout_id + resource_id. */
  SET_SCANOUT: 48,
  /** resource_flush: hdr + rect + resource_id + padding. */
  RESOURCE_FLUSH: 48,
  /** transfer_to_host_2d: hdr + rect + le64 offset + resource_id + padding. */
  TRANSFER_TO_HOST_2D: 56,
  /** resource_attach_backing: hdr + resource_id + nr_entries, then the entries. */
  RESOURCE_ATTACH_BACKING: 32,
  /** virtio_gpu_mem_entry: le64 addr + le32 length + padding. */
  MEM_ENTRY: 16,
  /** resource_detach_backing: hdr + resource_id + padding. */
  RESOURCE_DETACH_BACKING: 32,
  /** update_cursor (move_cursor alike): hdr + cursor_pos{scanout, x, y, padding} + resource_id, hot_x, hot_y, padding. */
  UPDATE_CURSOR: 56,
} as const;

/** A rectangle in pixels (struct virtio_gpu_rect). */
export interface GpuRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One scanout as GET_DISPLAY_INFO reports it (struct virtio_gpu_display_one). */
export interface GpuScanout extends GpuRect {
  readonly index: number;
  readonly enabled: boolean;
  readonly flags: number;
}

/** Writes a control header (§5.7.6.7) at offset 0. */
export function writeHeader(view: DataView, type: number, flags = 0, fenceId = 0n): void {
  view.setUint32(0, type, true);
  view.setUint32(4, flags, true);
  view.setBigUint64(8, fenceId, true);
  view.setUint32(16, 0, true); // ctx_id: 2D commands use none
  view.setUint32(20, 0, true); // ring_idx + padding
}

/** Writes a rectangle at `at`. */
export function writeRect(view: DataView, at: number, r: GpuRect): void {
  view.setUint32(at, r.x, true);
  view.setUint32(at + 4, r.y, true);
  view.setUint32(at + 8, r.width, true);
  view.setUint32(at + 12, r.height, true);
}
