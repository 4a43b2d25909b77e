// The console line editor: turns the bytes typed on the UART into lines.
//   printable characters   appended and echoed (UTF-8 aware: one character per code point)
//   0x7f DEL / 0x08 BS     erase the last character ("\b \b")
//   0x15 Ctrl-U            erase the whole line
//   \r or \n               end the line; \r\n (and \n\r) count as one end
//   0x03 Ctrl-C            cancel the line ("^C")
//   ESC sequences          (arrow keys, function keys: CSI and SS3) ignored entirely
// Everything the editor prints ends lines with \r\n, as a terminal expects.

import { Utf8Decoder } from "./utf8.js";

const BS = 0x08;
const DEL = 0x7f;
const CR = 0x0d;
const LF = 0x0a;
const ESC = 0x1b;
const CTRL_C = 0x03;
const CTRL_U = 0x15;
const TAB = 0x09;
const BEL = "\x07";

/** Default longest line, in characters; more input rings the bell. */
export const MAX_LINE = 4096;

export interface LineEditorOptions {
  /** Writes echo text to the terminal. */
  readonly write: (text: string) => void;
  /** Called with each completed line (without its end). */
  readonly onLine: (line: string) => void;
  /** Called after Ctrl-C cancelled the line being typed. */
  readonly onCancel?: () => void;
  /** Longest line in characters (default MAX_LINE). */
  readonly maxLength?: number;
}

const enum Escape {
  None,
  /** ESC seen. */
  Start,
  /** ESC [ seen: parameters until a final byte 0x40-0x7e. */
  Csi,
  /** ESC O seen: one more byte. */
  Ss3,
}

export class LineEditor {
  /** Echo typed characters (the shell's batch mode turns this off). */
  echo = true;

  readonly #write: (text: string) => void;
  readonly #onLine: (line: string) => void;
  readonly #onCancel: (() => void) | undefined;
  readonly #maxLength: number;
  readonly #decoder = new Utf8Decoder();
  /** The line so far, one code point per entry. */
  #chars: string[] = [];
  #escape = Escape.None;
  /** The byte that ended the last line (CR or LF), to swallow its partner; else 0. */
  #lastEnd = 0;

  constructor(options: LineEditorOptions) {
    if (typeof options?.write !== "function" || typeof options.onLine !== "function") {
      throw new TypeError("LineEditor needs write and onLine functions");
    }
    this.#write = options.write;
    this.#onLine = options.onLine;
    this.#onCancel = options.onCancel;
    this.#maxLength = options.maxLength ?? MAX_LINE;
  }

  /** The line typed so far. */
  get text(): string {
    return this.#chars.join("");
  }

  /** Feeds a chunk of received bytes. */
  feed(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.push(bytes[i]!);
  }

  /** Feeds one received byte. */
  push(byte: number): void {
    const lastEnd = this.#lastEnd;
    this.#lastEnd = 0;
    if (this.#escape !== Escape.None && this.#inEscape(byte)) return;
    if (byte === CR || byte === LF) {
      // \r\n (or \n\r) is one line end: the partner of the previous end is dropped.
      if (lastEnd !== 0 && lastEnd !== byte) return;
      this.#lastEnd = byte;
      this.#endLine();
      return;
    }
    if (this.#decoder.pending && byte < 0x80) this.#decoder.reset();
    switch (byte) {
      case BS:
      case DEL:
        this.#erase(1);
        return;
      case CTRL_U:
        this.#erase(this.#chars.length);
        return;
      case CTRL_C:
        this.#cancel();
        return;
      case ESC:
        this.#escape = Escape.Start;
        return;
      case TAB:
        this.#insert(" ");
        return;
    }
    if (byte < 0x20) return; // other control characters: ignored
    const ch = this.#decoder.push(byte);
    if (ch !== null) for (const c of ch) this.#insert(c);
  }

  /** Forgets the line being typed (no output). */
  clear(): void {
    this.#chars = [];
    this.#decoder.reset();
    this.#escape = Escape.None;
  }

  /** Returns true if the byte belonged to an escape sequence. */
  #inEscape(byte: number): boolean {
    if (byte < 0x20) {
      // A control byte aborts the sequence and is handled normally (a lone ESC then Enter).
      this.#escape = Escape.None;
      return false;
    }
    switch (this.#escape) {
      case Escape.Start:
        this.#escape = byte === 0x5b ? Escape.Csi : byte === 0x4f ? Escape.Ss3 : Escape.None;
        return true;
      case Escape.Csi:
        if (byte >= 0x40 && byte <= 0x7e) this.#escape = Escape.None;
        return true;
      default:
        this.#escape = Escape.None;
        return true;
    }
  }

  #insert(ch: string): void {
    const cp = ch.codePointAt(0)!;
    if (cp === DEL || (cp >= 0x80 && cp < 0xa0)) return; // C1 controls: not printable
    if (this.#chars.length >= this.#maxLength) {
      if (this.echo) this.#write(BEL);
      return;
    }
    this.#chars.push(ch);
    if (this.echo) this.#write(ch);
  }

  #erase(count: number): void {
    this.#decoder.reset();
    const n = Math.min(count, this.#chars.length);
    if (n === 0) return;
    this.#chars.length -= n;
    if (this.echo) this.#write("\b \b".repeat(n));
  }

  #endLine(): void {
    const line = this.text;
    this.clear();
    if (this.echo) this.#write("\r\n");
    this.#onLine(line);
  }

  #cancel(): void {
    this.clear();
    if (this.echo) this.#write("^C\r\n");
    this.#onCancel?.();
  }
}
