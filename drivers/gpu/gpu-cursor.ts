// The hardware cursor of a virtio GPU (§5.7.6.10): a 64x64 resource in the display's
// pixel format, shown with UPDATE_CURSOR and moved with MOVE_CURSOR on the cursorq.

import type { DmaBuffer } from "../../platform/platform.js";
import type { GpuDevice } from "./gpu-device.js";
import { GpuClosedError } from "./errors.js";
import { GPU_BYTES_PER_PIXEL, GPU_CURSOR_SIZE, GpuCmd, GpuFormat } from "./gpu-spec.js";

export class GpuCursor {
  readonly #gpu: GpuDevice;
  readonly #scanout: number;
  readonly #generation: number;
  #resource = 0;
  #backed = false;
  #image: DmaBuffer | null = null;
  #hot = { x: 0, y: 0 };
  #closed = false;

  private constructor(gpu: GpuDevice, scanout: number) {
    this.#gpu = gpu;
    this.#scanout = scanout;
    this.#generation = gpu.generation;
  }

  /** Makes the cursor from 64x64 pixels (0xAARRGGBB, alpha used by the host) with its hot spot. */
  static async open(gpu: GpuDevice, image: Uint32Array, hotX = 0, hotY = 0, scanout = 0): Promise<GpuCursor> {
    const n = GPU_CURSOR_SIZE * GPU_CURSOR_SIZE;
    if (image.length !== n) throw new RangeError(`a cursor image is ${n} pixels (64x64), not ${image.length}`);
    const c = new GpuCursor(gpu, scanout);
    const buf = gpu.platform.dma.alloc(n * GPU_BYTES_PER_PIXEL, 4096);
    c.#image = buf;
    new Uint32Array(buf.bytes.buffer, buf.bytes.byteOffset, n).set(image);
    c.#hot = { x: hotX, y: hotY };
    try {
      const all = { x: 0, y: 0, width: GPU_CURSOR_SIZE, height: GPU_CURSOR_SIZE };
      c.#resource = await gpu.createResource2d(GpuFormat.B8G8R8A8_UNORM, GPU_CURSOR_SIZE, GPU_CURSOR_SIZE);
      await gpu.attachBacking(c.#resource, [{ phys: buf.phys, len: buf.size }]);
      c.#backed = true;
      await gpu.transferToHost(c.#resource, all, 0);
    } catch (error) {
      await c.close().catch(() => undefined);
      throw error;
    }
    return c;
  }

  /** Shows the cursor image with its hot spot at (x, y). */
  show(x: number, y: number): Promise<void> {
    this.#check("show");
    return this.#gpu.cursor(GpuCmd.UPDATE_CURSOR, this.#scanout, x, y, this.#resource, this.#hot.x, this.#hot.y);
  }

  /** Moves the cursor shown (MOVE_CURSOR: the image is not sent again). */
  move(x: number, y: number): Promise<void> {
    this.#check("move");
    return this.#gpu.cursor(GpuCmd.MOVE_CURSOR, this.#scanout, x, y);
  }

  /** Hides the cursor (UPDATE_CURSOR with resource 0). */
  hide(): Promise<void> {
    this.#check("hide");
    return this.#gpu.cursor(GpuCmd.UPDATE_CURSOR, this.#scanout, 0, 0, 0);
  }

  /** Hides the cursor and frees its resource. Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const image = this.#image;
    this.#image = null;
    const free = (): void => { if (image !== null) this.#gpu.platform.dma.free(image); };
    if (this.#gpu.generation !== this.#generation || this.#resource === 0) return free();
    if (!this.#gpu.live) return this.#gpu.freeAtReset(free); // the device's until its reset (§2.7)
    try {
      await this.#gpu.cursor(GpuCmd.UPDATE_CURSOR, this.#scanout, 0, 0, 0);
      if (this.#backed) await this.#gpu.detachBacking(this.#resource);
      await this.#gpu.unref(this.#resource);
      free();
    } catch (error) {
      this.#gpu.freeAtReset(free);
      throw error;
    }
  }


  #check(op: string): void {
    if (this.#closed) throw new GpuClosedError(this.#gpu.location, `${op}() on a closed cursor`);
    if (this.#gpu.generation !== this.#generation || !this.#gpu.live) throw new GpuClosedError(this.#gpu.location, `${op}() on a cursor whose device was reset`);
  }
}
