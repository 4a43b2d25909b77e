// Figures for the bench report: {median, min, max, n} of repeated samples, and ratios.

/** {median, min, max, n} of the finite numbers in `samples` (null when there are none). */
export function summarize(samples) {
  const xs = samples.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  const r = (x) => Math.round(x * 1000) / 1000;
  return { median: r(median), min: r(xs[0]), max: r(xs[xs.length - 1]), n: xs.length };
}

/** Collects named samples: add(name, value), then figures() maps each name to summarize(). */
export class Samples {
  #by = new Map();
  add(name, value) {
    if (!this.#by.has(name)) this.#by.set(name, []);
    this.#by.get(name).push(value);
  }
  figures() {
    const out = {};
    for (const [k, v] of this.#by) {
      const s = summarize(v);
      if (s !== null) out[k] = s;
    }
    return out;
  }
}

/** ours/peer of two medians, 3 decimals; null when either is missing. */
export function ratio(ours, peer) {
  if (!ours || !peer || !peer.median) return null;
  return Math.round((ours.median / peer.median) * 1000) / 1000;
}
