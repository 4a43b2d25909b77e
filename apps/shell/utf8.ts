// A streaming UTF-8 decoder for console input. XS has no TextDecoder, and console bytes
// arrive in arbitrary chunks, so a character may be split across two receive calls.

/** U+FFFD, emitted for every malformed or truncated sequence. */
export const REPLACEMENT = "\uFFFD";

/**
 * Decodes UTF-8 one byte at a time. `push` returns the completed character, or null while
 * a multi-byte sequence is still incomplete. Overlong forms, surrogates and values above
 * U+10FFFF decode to U+FFFD.
 */
export class Utf8Decoder {
  #needed = 0;
  #codePoint = 0;
  #min = 0;

  /** True while a multi-byte sequence is partly received. */
  get pending(): boolean {
    return this.#needed > 0;
  }

  /** Forgets a partial sequence. */
  reset(): void {
    this.#needed = 0;
  }

  /**
   * Feeds one byte. Returns the decoded character(s), or null if more bytes are needed.
   * A byte that breaks a sequence yields U+FFFD followed by that byte's own decoding.
   */
  push(byte: number): string | null {
    if (this.#needed > 0) {
      if ((byte & 0xc0) === 0x80) {
        this.#codePoint = (this.#codePoint << 6) | (byte & 0x3f);
        this.#needed -= 1;
        return this.#needed > 0 ? null : this.#finish();
      }
      this.#needed = 0;
      const next = this.push(byte);
      return REPLACEMENT + (next ?? "");
    }
    if (byte < 0x80) return String.fromCharCode(byte);
    if ((byte & 0xe0) === 0xc0) return this.#start(byte & 0x1f, 1, 0x80);
    if ((byte & 0xf0) === 0xe0) return this.#start(byte & 0x0f, 2, 0x800);
    if ((byte & 0xf8) === 0xf0) return this.#start(byte & 0x07, 3, 0x10000);
    return REPLACEMENT;
  }

  #start(bits: number, needed: number, min: number): null {
    this.#codePoint = bits;
    this.#needed = needed;
    this.#min = min;
    return null;
  }

  #finish(): string {
    const cp = this.#codePoint;
    if (cp < this.#min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return REPLACEMENT;
    return String.fromCodePoint(cp);
  }
}
