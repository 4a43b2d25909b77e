// virtio-rng (VIRTIO 1.2 §5.4): one queue (requestq), no feature bits, no config. The
// device fills each chain's writable buffers with entropy, from a seeded PRNG or a
// given source, and may return fewer bytes than asked (short returns).

import type { DeviceChain } from "../chain.js";
import type { DeviceContext, DeviceModel } from "../device-model.js";

export interface RngDeviceOptions {
  /** Seed of the built-in xorshift32 generator (default 1); ignored with `source`. */
  readonly seed?: number;
  /** Gives `length` bytes of entropy (replaces the generator). */
  readonly source?: (length: number) => Uint8Array;
  /** At most this many bytes per request (short returns); default: the whole buffer. */
  readonly maxLength?: number;
  /** Completes requests this many event-loop turns after taking them (0 = same turn). */
  readonly delayTurns?: number;
  /** Completes the chains of one batch in reverse order (with delayTurns > 0 or not). */
  readonly outOfOrder?: boolean;
  /** QueueNumMax (default 1024). */
  readonly queueMaxSize?: number;
}

export const VIRTIO_ID_ENTROPY = 4;

export class RngDevice implements DeviceModel {
  readonly deviceId = VIRTIO_ID_ENTROPY;
  readonly name = "rng";
  readonly features = 0n;
  readonly queueCount = 1;
  /** Bytes of entropy handed out. */
  bytesServed = 0;
  /** Requests completed. */
  requestsServed = 0;
  /** Change at run time to make the device return short lengths (undefined = full). */
  maxLength: number | undefined;
  readonly #options: RngDeviceOptions;
  #state: number;
  #ctx: DeviceContext | null = null;

  constructor(options: RngDeviceOptions = {}) {
    this.#options = options;
    this.maxLength = options.maxLength;
    this.#state = (options.seed ?? 1) >>> 0 || 1;
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 1024;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {}

  process(queue: number): void {
    const ctx = this.#ctx!;
    const batch: [DeviceChain, number][] = [];
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      if (chain.readable.length > 0) {
        // §5.4.6.1: the driver MUST NOT place driver-readable buffers into the queue.
        ctx.violation("rng-readable-buffer", `request ${chain.head} holds ${chain.readable.length} device-readable buffer(s) (§5.4.6.1)`);
      }
      const length = Math.min(chain.writableLength, this.maxLength ?? Infinity);
      const written = chain.write(this.#entropy(length));
      batch.push([chain, written]);
    }
    if (this.#options.outOfOrder) batch.reverse();
    const finish = (): void => {
      for (const [chain, written] of batch) {
        ctx.complete(chain, written);
        this.bytesServed += written;
        this.requestsServed++;
      }
    };
    const delay = this.#options.delayTurns ?? 0;
    if (batch.length === 0) return;
    if (delay > 0) ctx.later(finish, delay);
    else finish();
  }

  #entropy(length: number): Uint8Array {
    if (this.#options.source) return this.#options.source(length).subarray(0, length);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      // xorshift32: deterministic for a seed, good enough for tests.
      let x = this.#state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.#state = x >>> 0;
      out[i] = this.#state & 0xff;
    }
    return out;
  }
}
