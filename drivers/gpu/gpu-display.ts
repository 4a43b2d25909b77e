// A display on one scanout of a virtio GPU, in the shape of ECMA-419's `embedded:display`
// (configure, begin(area), send(pixels), end(), width, height, pixelFormat) so a renderer
// can draw into it. The frame buffer is one 2D resource (RESOURCE_CREATE_2D, format
// B8G8R8X8: each pixel a little-endian 32-bit 0x00RRGGBB) backed by DMA memory
// (RESOURCE_ATTACH_BACKING) and shown with SET_SCANOUT. Drawing writes guest memory only;
// end() / flush() send the dirty rectangle alone: TRANSFER_TO_HOST_2D, then RESOURCE_FLUSH
// (§5.7.6.2). close() takes the scanout back, DETACH_BACKING, RESOURCE_UNREF.

import type { DmaBuffer } from "../../platform/platform.js";
import type { GpuDevice } from "./gpu-device.js";
import { GpuClosedError } from "./errors.js";
import { GPU_BYTES_PER_PIXEL, GpuFormat, type GpuRect } from "./gpu-spec.js";

/** The only pixel format: 32 bits per pixel, 0x00RRGGBB read as a little-endian word. */
export const GPU_PIXEL_FORMAT = "xrgb8888";

export interface GpuDisplayOptions {
  /** Scanout index (default 0). */
  readonly scanout?: number;
}

export class GpuDisplay {
  readonly #gpu: GpuDevice;
  readonly #scanout: number;
  readonly #generation: number;
  #resource = 0;
  /** What close() must undo: RESOURCE_ATTACH_BACKING and SET_SCANOUT done. */
  #backed = false;
  #shown = false;
  #fb: DmaBuffer | null = null;
  #pixels: Uint32Array = new Uint32Array(0);
  #width = 0;
  #height = 0;
  #closed = false;
  #stale = false;
  #unsubscribe: () => void = () => undefined;
  /** The area of the current begin(), and the next pixel send() writes in it. */
  #area: GpuRect | null = null;
  #sent = 0;
  /** Bounding box of what was drawn since the last flush (width 0: nothing). */
  #dirty = { x0: 0, y0: 0, x1: 0, y1: 0 };

  private constructor(gpu: GpuDevice, scanout: number) {
    this.#gpu = gpu;
    this.#scanout = scanout;
    this.#generation = gpu.generation;
  }

  /** Creates the frame buffer for the scanout's current size and shows it (black). */
  static async open(gpu: GpuDevice, options: GpuDisplayOptions = {}): Promise<GpuDisplay> {
    const index = options.scanout ?? 0;
    const scanouts = await gpu.displayInfo();
    const s = scanouts[index];
    if (s === undefined || !s.enabled) throw new RangeError(`${gpu.location}: scanout ${index} is not enabled (${scanouts.filter((x) => x.enabled).length} enabled)`);
    const d = new GpuDisplay(gpu, index);
    await d.#create(s.width, s.height);
    return d;
  }

  get width(): number {
    return this.#width;
  }

  get height(): number {
    return this.#height;
  }

  get pixelFormat(): string {
    return GPU_PIXEL_FORMAT;
  }

  get scanout(): number {
    return this.#scanout;
  }

  /** The frame buffer itself (width x height, row by row), for drawing in place; mark
   * what was drawn with markDirty() before flush(). */
  get pixels(): Uint32Array {
    this.#check("pixels");
    return this.#pixels;
  }

  /** ECMA-419 configure(): only `format` (which must be "xrgb8888") is understood. */
  configure(options: { readonly format?: string } = {}): void {
    this.#check("configure");
    if (options.format !== undefined && options.format !== GPU_PIXEL_FORMAT) {
      throw new RangeError(`pixel format ${options.format} not supported (only ${GPU_PIXEL_FORMAT})`);
    }
  }

  /** Starts drawing `area` (default the whole display); send() fills it row by row. */
  begin(area: Partial<GpuRect> = {}): void {
    this.#check("begin");
    const r = { x: area.x ?? 0, y: area.y ?? 0, width: area.width ?? this.#width - (area.x ?? 0), height: area.height ?? this.#height - (area.y ?? 0) };
    this.#checkRect(r);
    this.#area = r;
    this.#sent = 0;
  }

  /** Pixels for the area of begin(), continuing where the last send() stopped. */
  send(pixels: ArrayBuffer | ArrayBufferView): void {
    this.#check("send");
    const area = this.#area;
    if (area === null) throw new Error("send() without begin()");
    if (pixels.byteLength % GPU_BYTES_PER_PIXEL !== 0) throw new RangeError(`${pixels.byteLength} bytes are not whole 32-bit pixels`);
    const src = pixels instanceof ArrayBuffer
      ? new Uint32Array(pixels, 0, pixels.byteLength >> 2)
      : new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength >> 2);
    const total = area.width * area.height;
    if (this.#sent + src.length > total) throw new RangeError(`${src.length} pixels sent; ${total - this.#sent} left in the area`);
    let from = 0;
    while (from < src.length) {
      const row = Math.floor(this.#sent / area.width);
      const col = this.#sent % area.width;
      const n = Math.min(area.width - col, src.length - from);
      this.#pixels.set(src.subarray(from, from + n), (area.y + row) * this.#width + area.x + col);
      from += n;
      this.#sent += n;
    }
  }

  /** Ends the area: marks it dirty and sends it to the host. */
  end(): Promise<void> {
    this.#check("end");
    const area = this.#area;
    if (area === null) throw new Error("end() without begin()");
    this.#area = null;
    this.markDirty(area);
    return this.flush();
  }

  /** Fills a rectangle with one colour (0xRRGGBB) and marks it dirty. */
  fill(rect: GpuRect, color: number): void {
    this.#check("fill");
    this.#checkRect(rect);
    const px = this.#pixels;
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      const at = y * this.#width + rect.x;
      px.fill(color >>> 0, at, at + rect.width);
    }
    this.markDirty(rect);
  }

  /** Adds `rect` to the area flush() sends. */
  markDirty(rect: GpuRect): void {
    this.#checkRect(rect);
    if (rect.width === 0 || rect.height === 0) return;
    const d = this.#dirty;
    if (d.x1 === d.x0) {
      d.x0 = rect.x; d.y0 = rect.y; d.x1 = rect.x + rect.width; d.y1 = rect.y + rect.height;
      return;
    }
    d.x0 = Math.min(d.x0, rect.x); d.y0 = Math.min(d.y0, rect.y);
    d.x1 = Math.max(d.x1, rect.x + rect.width); d.y1 = Math.max(d.y1, rect.y + rect.height);
  }

  /** The area drawn since the last flush, or null. */
  get dirty(): GpuRect | null {
    const d = this.#dirty;
    return d.x1 === d.x0 ? null : { x: d.x0, y: d.y0, width: d.x1 - d.x0, height: d.y1 - d.y0 };
  }

  /** TRANSFER_TO_HOST_2D and RESOURCE_FLUSH of the dirty rectangle only (nothing if clean). */
  async flush(): Promise<void> {
    this.#check("flush");
    const r = this.dirty;
    if (r === null) return;
    this.#dirty = { x0: 0, y0: 0, x1: 0, y1: 0 };
    await this.#gpu.transferToHost(this.#resource, r, (r.y * this.#width + r.x) * GPU_BYTES_PER_PIXEL);
    await this.#gpu.flush(this.#resource, r);
  }

  /** Takes the scanout back and frees the resource and its memory. Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    const fb = this.#fb;
    this.#fb = null;
    const free = (): void => { if (fb !== null) this.#gpu.platform.dma.free(fb); };
    const reset = this.#stale || this.#gpu.generation !== this.#generation;
    if (reset) return free(); // the reset took the backing back from the device
    if (!this.#gpu.live) return this.#gpu.freeAtReset(free); // the device's until its reset (§2.7)
    try {
      if (this.#shown) await this.#gpu.setScanout(this.#scanout, 0, { x: 0, y: 0, width: 0, height: 0 });
      if (this.#backed) await this.#gpu.detachBacking(this.#resource);
      if (this.#resource !== 0) await this.#gpu.unref(this.#resource);
      free();
    } catch (error) {
      this.#gpu.freeAtReset(free); // the device may still read the backing
      throw error;
    }
  }


  async #create(width: number, height: number): Promise<void> {
    const gpu = this.#gpu;
    const bytes = width * height * GPU_BYTES_PER_PIXEL;
    const fb = gpu.platform.dma.alloc(bytes, 4096);
    this.#fb = fb;
    fb.bytes.fill(0);
    this.#pixels = new Uint32Array(fb.bytes.buffer, fb.bytes.byteOffset, width * height);
    this.#width = width;
    this.#height = height;
    // A reset takes the resource with it: the display is stale, close() only frees memory.
    this.#unsubscribe = gpu.onReset(() => { this.#stale = true; });
    try {
      this.#resource = await gpu.createResource2d(GpuFormat.B8G8R8X8_UNORM, width, height);
      await gpu.attachBacking(this.#resource, [{ phys: fb.phys, len: bytes }]);
      this.#backed = true;
      const all = { x: 0, y: 0, width, height };
      await gpu.setScanout(this.#scanout, this.#resource, all);
      this.#shown = true;
      this.markDirty(all);
      await this.flush();
    } catch (error) {
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  #checkRect(r: GpuRect): void {
    const ok = [r.x, r.y, r.width, r.height].every((v) => Number.isInteger(v) && v >= 0);
    if (!ok || r.x + r.width > this.#width || r.y + r.height > this.#height) {
      throw new RangeError(`area ${r.x},${r.y} ${r.width}x${r.height} is outside the ${this.#width}x${this.#height} display`);
    }
  }

  #check(op: string): void {
    if (this.#closed) throw new GpuClosedError(this.#gpu.location, `${op}() on a closed display`);
    if (this.#stale) throw new GpuClosedError(this.#gpu.location, `${op}() on a display whose device was reset (open it again)`);
  }
}
