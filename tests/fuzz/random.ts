// The fuzzer's seeded PRNG (mulberry32): the same seed gives the same case, step list
// and lies on every run.

export class Rand {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** A step's random arguments, read one after another as the action needs them. */
export class Args {
  readonly #values: readonly number[];
  #at = 0;

  constructor(values: readonly number[]) {
    this.#values = values;
  }

  /** An integer in [lo, hi] from the next argument. */
  int(lo: number, hi: number): number {
    const v = this.#values[this.#at++ % this.#values.length] ?? 0;
    return lo + (v % (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }

  chance(percent: number): boolean {
    return this.int(0, 99) < percent;
  }
}
