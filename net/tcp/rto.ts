// Retransmission timeout (RFC 6298): SRTT and RTTVAR from one timed segment at a time
// (Karn: never from a retransmitted one), RTO = SRTT + max(G, 4 RTTVAR) clamped to
// [minRto, maxRto], doubled on each expiry (§5.5) until a new sample comes.

export interface RtoOptions {
  /** RFC 6298 §2.4: RTO is rounded up to 1 s. Default 1000 ms. */
  readonly minRtoMs?: number;
  /** RFC 6298 §2.5: a maximum of at least 60 s may be placed. Default 60000 ms. */
  readonly maxRtoMs?: number;
  /** RFC 6298 §2.1: 1 s before the first sample. Default 1000 ms. */
  readonly initialRtoMs?: number;
}

/** Clock granularity G (ms): the platform clock is fractional; timers run in ms. */
const GRANULARITY = 1;

export class RtoEstimator {
  readonly #min: number;
  readonly #max: number;
  #srtt = -1;
  #rttvar = 0;
  #rto: number;

  constructor(options: RtoOptions = {}) {
    this.#min = options.minRtoMs ?? 1000;
    this.#max = options.maxRtoMs ?? 60000;
    this.#rto = Math.max(this.#min, Math.min(this.#max, options.initialRtoMs ?? 1000));
  }

  get rto(): number {
    return this.#rto;
  }

  /** Smoothed RTT (ms), -1 before the first sample. */
  get srtt(): number {
    return this.#srtt;
  }

  get rttvar(): number {
    return this.#rttvar;
  }

  /** One RTT measurement R (ms): §2.2 (first) or §2.3 (later). */
  sample(r: number): void {
    if (this.#srtt < 0) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    this.#rto = this.#clamp(this.#srtt + Math.max(GRANULARITY, 4 * this.#rttvar));
  }

  /** §5.5: the timer expired: back off. */
  backOff(): void {
    this.#rto = this.#clamp(this.#rto * 2);
  }

  #clamp(v: number): number {
    return Math.max(this.#min, Math.min(this.#max, v));
  }
}
