// SYN cookies (RFC 4987 §3.6): once a listener's half-open backlog is full, a SYN is
// answered with a SYN-ACK whose ISN carries what the connection needs, and nothing is
// kept. The ACK that completes the handshake brings it back (SEG.ACK - 1); if it checks,
// the connection is made there, already ESTABLISHED. So a SYN flood costs no memory and
// a real client still gets in while it lasts.
//
// The cookie (32 bits): a 5-bit time slot (64 s each; the current and the previous slot
// are taken, so a cookie lives 64 to 128 s), a 25-bit keyed hash of the addresses, ports,
// the peer's ISN and the slot, and a 2-bit index into MSS_STEPS. What a cookie cannot
// hold: the peer's window scale (a cookie connection runs unscaled, RFC 7323 §2.2 allows
// it: our SYN-ACK carries no window scale option) and MSS values between the steps.

/** The MSS values a cookie can name (RFC 4987 §3.6: a few common ones); the largest not
 * above the peer's MSS is used. */
const MSS_STEPS = [536, 1220, 1440, 1460];
const SLOT_MS = 64_000;
const HASH_MASK = 0x1ff_ffff; // 25 bits

export class SynCookies {
  readonly #secret: readonly number[];

  constructor(secret: readonly number[]) {
    if (secret.length < 4) throw new RangeError("SYN cookie secret: 4 words");
    this.#secret = secret;
  }

  /** The ISN of the SYN-ACK for a SYN from `address`:`port` to our `localPort` with
   * sequence number `peerIsn`, and the MSS the connection will use (at most `mss`: the
   * smaller of the peer's and ours). */
  make(now: number, address: number, port: number, localPort: number, peerIsn: number, mss: number): number {
    let index = 0;
    while (index + 1 < MSS_STEPS.length && MSS_STEPS[index + 1]! <= mss) index++;
    const slot = Math.floor(now / SLOT_MS);
    const hash = this.#hash(address, port, localPort, peerIsn, slot) & HASH_MASK;
    return (((slot & 31) << 27) | (hash << 2) | index) >>> 0;
  }

  /** The MSS a cookie (SEG.ACK - 1 of the handshake's ACK) names, or 0 when it is not
   * one of ours (forged, or older than two slots). `peerIsn` is SEG.SEQ - 1. */
  check(now: number, address: number, port: number, localPort: number, peerIsn: number, cookie: number): number {
    const current = Math.floor(now / SLOT_MS);
    for (let slot = current; slot >= current - 1; slot--) {
      if ((slot & 31) !== cookie >>> 27) continue;
      const hash = this.#hash(address, port, localPort, peerIsn, slot) & HASH_MASK;
      if (hash === ((cookie >>> 2) & HASH_MASK)) return MSS_STEPS[cookie & 3]!;
    }
    return 0;
  }

  #hash(address: number, port: number, localPort: number, peerIsn: number, slot: number): number {
    const s = this.#secret;
    let h = Math.imul(address ^ s[0]!, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15) ^ ((localPort << 16) | port) ^ s[1]!, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ peerIsn ^ s[2]!, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ slot ^ s[3]!, 0x27d4eb2f);
    return (h ^ (h >>> 15)) >>> 0;
  }
}
