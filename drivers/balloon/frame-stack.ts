// A growing stack of page frames (physical address >> 12), kept in one Uint32Array so that
// pushing and popping allocate nothing until the stack outgrows what it has held before.

export class FrameStack {
  #frames: Uint32Array;
  #count = 0;

  constructor(initialCapacity: number) {
    this.#frames = new Uint32Array(initialCapacity);
  }

  get count(): number {
    return this.#count;
  }

  /** The backing array: frames [0, count) are the stack, the top last. */
  get frames(): Uint32Array {
    return this.#frames;
  }

  /** Pushes frames[0, n) (in that order). */
  pushAll(frames: Uint32Array, n: number): void {
    this.#reserve(this.#count + n);
    this.#frames.set(frames.subarray(0, n), this.#count);
    this.#count += n;
  }

  push(frame: number): void {
    this.#reserve(this.#count + 1);
    this.#frames[this.#count++] = frame;
  }

  /** Pops the top frame; the caller checks `count` first. */
  pop(): number {
    return this.#frames[--this.#count]!;
  }

  /** Pops n frames into out[0, n), the top first. */
  popInto(out: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = this.#frames[--this.#count]!;
  }

  clear(): void {
    this.#count = 0;
  }

  #reserve(n: number): void {
    if (n <= this.#frames.length) return;
    const grown = new Uint32Array(Math.max(n, this.#frames.length * 2, 256));
    grown.set(this.#frames.subarray(0, this.#count));
    this.#frames = grown;
  }
}
