// The `gpu test` picture: eight colour bars over the top two thirds, a text line (a tiny
// built-in 5x7 font, upper case) on a dark band below, and a square that moves along the
// band, each frame sending only the rectangle it changed. The QEMU test checks the bars'
// colours in a screendump (barColor() says which colour is where).

import type { GpuRect } from "./gpu-spec.js";

/** White, yellow, cyan, green, magenta, red, blue, black (0xRRGGBB). */
export const COLOR_BARS: readonly number[] = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000];
export const BAND_COLOR = 0x202020;
export const TEXT_COLOR = 0xffffff;
export const SQUARE_COLOR = 0xff8000;

/** What the pattern draws on (a GpuDisplay). */
export interface PatternTarget {
  readonly width: number;
  readonly height: number;
  fill(rect: GpuRect, color: number): void;
  flush(): Promise<void>;
}

/** The bottom of the bars (exclusive): two thirds of the height. */
export function barsBottom(height: number): number {
  return Math.floor((height * 2) / 3);
}

/** The colour of bar `i` spans x in [barLeft(i), barLeft(i + 1)). */
export function barLeft(i: number, width: number): number {
  return Math.floor((i * width) / COLOR_BARS.length);
}

/** The colour the pattern has at (x, y) inside the bars, or null below them. */
export function barColor(x: number, y: number, width: number, height: number): number | null {
  if (y >= barsBottom(height)) return null;
  for (let i = COLOR_BARS.length - 1; i >= 0; i--) if (x >= barLeft(i, width)) return COLOR_BARS[i]!;
  return null;
}

/** 5x7 glyphs, one 5-bit row per entry (bit 4 the left column). */
const GLYPHS: Readonly<Record<string, readonly number[]>> = {
  A: [14, 17, 17, 31, 17, 17, 17], B: [30, 17, 17, 30, 17, 17, 30], C: [14, 17, 16, 16, 16, 17, 14],
  D: [30, 17, 17, 17, 17, 17, 30], E: [31, 16, 16, 30, 16, 16, 31], F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15], H: [17, 17, 17, 31, 17, 17, 17], I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12], K: [17, 18, 20, 24, 20, 18, 17], L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17], N: [17, 17, 25, 21, 19, 17, 17], O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16], Q: [14, 17, 17, 17, 21, 18, 13], R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30], T: [31, 4, 4, 4, 4, 4, 4], U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4], W: [17, 17, 17, 21, 21, 21, 10], X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 17, 10, 4, 4, 4], Z: [31, 1, 2, 4, 8, 16, 31],
  "0": [14, 17, 19, 21, 25, 17, 14], "1": [4, 12, 4, 4, 4, 4, 14], "2": [14, 17, 1, 2, 4, 8, 31],
  "3": [31, 2, 4, 2, 1, 17, 14], "4": [2, 6, 10, 18, 31, 2, 2], "5": [31, 16, 30, 1, 1, 17, 14],
  "6": [6, 8, 16, 30, 17, 17, 14], "7": [31, 1, 2, 4, 8, 8, 8], "8": [14, 17, 17, 14, 17, 17, 14],
  "9": [14, 17, 17, 15, 1, 2, 12],
  "-": [0, 0, 0, 31, 0, 0, 0], ",": [0, 0, 0, 0, 12, 4, 8], ".": [0, 0, 0, 0, 0, 12, 12],
  ":": [0, 12, 12, 0, 12, 12, 0], "/": [1, 1, 2, 4, 8, 16, 16], _: [0, 0, 0, 0, 0, 0, 31],
  " ": [0, 0, 0, 0, 0, 0, 0], "?": [14, 17, 1, 2, 4, 0, 4],
};

/** Draws `text` (upper-cased; unknown characters as "?") with its top left at (x, y). */
export function drawText(target: PatternTarget, text: string, x: number, y: number, scale: number, color: number): void {
  let cx = x;
  for (const ch of text.toUpperCase()) {
    const glyph = GLYPHS[ch] ?? GLYPHS["?"]!;
    if (cx + 5 * scale > target.width) break;
    for (let row = 0; row < 7; row++) {
      const bits = glyph[row]!;
      for (let col = 0; col < 5; col++) {
        if ((bits & (16 >> col)) !== 0 && y + (row + 1) * scale <= target.height) {
          target.fill({ x: cx + col * scale, y: y + row * scale, width: scale, height: scale }, color);
        }
      }
    }
    cx += 6 * scale;
  }
}

/** The square's side and where it runs: the lower part of the band. */
export function squareTrack(width: number, height: number): { size: number; y: number; span: number } {
  const size = Math.max(4, Math.floor(height / 16));
  const y = Math.min(height - size, barsBottom(height) + Math.floor((height - barsBottom(height)) / 2));
  return { size, y, span: Math.max(1, width - size) };
}

/** Draws the still picture (bars, band, text) and sends it. */
export async function drawTestPattern(target: PatternTarget, title: string): Promise<void> {
  const { width, height } = target;
  const bottom = barsBottom(height);
  for (let i = 0; i < COLOR_BARS.length; i++) {
    const x0 = barLeft(i, width);
    target.fill({ x: x0, y: 0, width: barLeft(i + 1, width) - x0, height: bottom }, COLOR_BARS[i]!);
  }
  target.fill({ x: 0, y: bottom, width, height: height - bottom }, BAND_COLOR);
  const scale = Math.max(1, Math.floor(height / 200));
  drawText(target, title, 8 * scale, bottom + 4 * scale, scale, TEXT_COLOR);
  await target.flush();
}

/** Moves the square one step to position `step` of `steps` (erasing where it was). */
export function moveSquare(target: PatternTarget, from: number | null, to: number): void {
  const t = squareTrack(target.width, target.height);
  if (from !== null) target.fill({ x: from, y: t.y, width: t.size, height: t.size }, BAND_COLOR);
  target.fill({ x: to, y: t.y, width: t.size, height: t.size }, SQUARE_COLOR);
}

/** The square's x at time `ms` of a run: left to right and back every 2 s. */
export function squareX(ms: number, width: number, height: number): number {
  const { span } = squareTrack(width, height);
  const phase = (ms % 2000) / 1000;
  return Math.round((phase <= 1 ? phase : 2 - phase) * span);
}
