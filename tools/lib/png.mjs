// A small PNG decoder for tests: 8-bit RGB or RGBA, non-interlaced (what QEMU's
// `screendump` with "format": "png" writes). Chunks are walked with their lengths checked;
// IDAT data is inflated with node:zlib and each row's filter (None, Sub, Up, Average,
// Paeth) undone.
import { inflateSync } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class PngError extends Error {
  name = "PngError";
}

/** Decodes `data` (a Buffer or Uint8Array); returns { width, height, channels, rgb(x, y) }. */
export function decodePng(data) {
  const buf = Buffer.from(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength ?? data.length);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new PngError("not a PNG (bad signature)");
  let at = 8;
  let header = null;
  const idat = [];
  while (at + 12 <= buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    if (at + 12 + len > buf.length) throw new PngError(`chunk ${type} of ${len} bytes runs past the end`);
    const body = buf.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], color: body[9], interlace: body[12] };
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    at += 12 + len;
  }
  if (header === null) throw new PngError("no IHDR chunk");
  const { width, height, depth, color, interlace } = header;
  if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) {
    throw new PngError(`unsupported PNG: bit depth ${depth}, colour type ${color}, interlace ${interlace} (8-bit RGB/RGBA only)`);
  }
  const channels = color === 2 ? 3 : 4;
  const stride = width * channels;
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== height * (stride + 1)) throw new PngError(`image data of ${raw.length} bytes, ${height * (stride + 1)} expected`);
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? pixels[out + i - channels] : 0;
      const b = y > 0 ? pixels[out - stride + i] : 0;
      const c = y > 0 && i >= channels ? pixels[out - stride + i - channels] : 0;
      let p;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new PngError(`row ${y}: unknown filter ${filter}`);
      }
      pixels[out + i] = (raw[src + i] + p) & 0xff;
    }
  }
  return {
    width,
    height,
    channels,
    /** The pixel at (x, y) as 0xRRGGBB. */
    rgb(x, y) {
      const o = y * stride + x * channels;
      return (pixels[o] << 16) | (pixels[o + 1] << 8) | pixels[o + 2];
    },
  };
}
