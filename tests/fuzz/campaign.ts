// A fuzz campaign: cases over the chosen devices and transport versions, round robin,
// until the step budget is spent; progress and rate on the way; each new class of
// finding cut down to the shortest step list that still shows it, and printed with
// what reproduces it (`npm run fuzz -- --replay '<json>'`).

import { plan, runCase, type CaseSpec, type Step } from "./engine.js";
import { Rand } from "./random.js";
import { DEVICE_KINDS, type DeviceKind, type Target } from "./target.js";
import { blkTarget } from "./targets/blk.js";
import { consoleTarget } from "./targets/console.js";
import { inputTarget } from "./targets/input.js";
import { netTarget } from "./targets/net.js";
import { rngTarget } from "./targets/rng.js";
import type { Finding } from "./world.js";

export const TARGETS: Readonly<Partial<Record<DeviceKind, Target>>> = { blk: blkTarget, rng: rngTarget, net: netTarget, console: consoleTarget, input: inputTarget };

export interface CampaignOptions {
  readonly steps: number;
  readonly seed: number;
  readonly devices?: readonly DeviceKind[];
  readonly versions?: readonly (1 | 2)[];
  /** Steps per case (default: 20-400, from the case's seed). */
  readonly stepsPerCase?: number;
  /** Cut each new finding class down (default true). */
  readonly minimize?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Milliseconds between progress lines (default 5000). */
  readonly progressMs?: number;
}

export interface ClassReport {
  readonly kind: string;
  readonly device: DeviceKind;
  readonly count: number;
  readonly first: Finding;
  readonly spec: CaseSpec;
  /** The cut-down case, and the step where it shows. */
  readonly minimal: CaseSpec;
}

export interface CampaignResult {
  /** Heap used (after a collection, where one can be forced) at the start and the end, bytes. */
  readonly heapStart: number;
  readonly heapEnd: number;
  readonly steps: number;
  readonly cases: number;
  readonly ms: number;
  readonly perDevice: Record<string, number>;
  readonly classes: ClassReport[];
}

/** The case seed of case `i` of a campaign. */
export function caseSeed(seed: number, i: number): number {
  const r = new Rand((seed ^ Math.imul(i + 1, 0x9e37_79b9)) >>> 0);
  r.next();
  return r.u32();
}

export function targetFor(kind: DeviceKind): Target {
  const t = TARGETS[kind];
  if (!t) throw new Error(`no fuzz target for ${kind} (have: ${Object.keys(TARGETS).join(", ")})`);
  return t;
}

export function availableDevices(): DeviceKind[] {
  return DEVICE_KINDS.filter((k) => TARGETS[k] !== undefined);
}

/** The case `i` of a campaign. */
export function campaignCase(options: CampaignOptions, i: number): CaseSpec {
  const devices = options.devices ?? availableDevices();
  const versions = options.versions ?? [1, 2];
  const combo = i % (devices.length * versions.length);
  const kind = devices[combo % devices.length]!;
  const version = versions[Math.floor(combo / devices.length)]!;
  const seed = caseSeed(options.seed, i);
  const count = options.stepsPerCase ?? new Rand(seed ^ 0x5151).int(20, 400);
  return { kind, version, seed, steps: plan(targetFor(kind), seed, count) };
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const log = options.log ?? (() => {});
  const progressMs = options.progressMs ?? 5000;
  const started = performance.now();
  let lastLog = started;
  let steps = 0;
  let cases = 0;
  const perDevice: Record<string, number> = {};
  const classes = new Map<string, ClassReport>();
  const heapStart = heapAfterGc();
  while (steps < options.steps) {
    const spec = campaignCase(options, cases);
    const findings = await runCase(spec, targetFor(spec.kind));
    cases++;
    steps += spec.steps.length;
    perDevice[`${spec.kind} v${spec.version}`] = (perDevice[`${spec.kind} v${spec.version}`] ?? 0) + spec.steps.length;
    for (const f of findings) {
      const key = `${f.kind} (${spec.kind})`;
      const known = classes.get(key);
      if (known) {
        classes.set(key, { ...known, count: known.count + 1 });
        continue;
      }
      log(`[fuzz] NEW ${key} in case ${cases - 1} (${spec.kind} v${spec.version} seed ${spec.seed}) at step ${f.step}: ${f.message}`);
      const minimal = options.minimize === false ? spec : await minimize(spec, f.kind, log);
      classes.set(key, { kind: f.kind, device: spec.kind, count: 1, first: f, spec, minimal });
      log(`[fuzz]   reproduce: npm run fuzz -- --replay '${JSON.stringify(minimal)}'`);
      log(`[fuzz]   steps: ${describeSteps(minimal.steps)}`);
    }
    const now = performance.now();
    if (now - lastLog >= progressMs) {
      lastLog = now;
      const rate = steps / ((now - started) / 1000);
      log(`[fuzz] ${steps} steps, ${cases} cases, ${rate.toFixed(0)} steps/s, ${classes.size} finding class(es), heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB`);
    }
  }
  const ms = performance.now() - started;
  const heapEnd = heapAfterGc();
  // Every case has its own machine: what the stack leaks across cases stays (a global).
  if (heapEnd > heapStart + HEAP_GROWTH_LIMIT) {
    const f = { kind: "heap-growth", message: `heap ${heapStart} -> ${heapEnd} bytes over ${cases} cases (after a collection)`, step: -1 };
    classes.set("heap-growth", { kind: f.kind, device: "blk", count: 1, first: f, spec: campaignCase(options, 0), minimal: campaignCase(options, 0) });
    log(`[fuzz] NEW heap-growth: ${f.message}`);
  }
  return { heapStart, heapEnd, steps, cases, ms, perDevice, classes: [...classes.values()] };
}

/** Heap growth over a campaign taken as a leak (the cases' own garbage is collected). */
const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024;

/** Heap used after a full collection, where the process offers one (tools/fuzz.mjs does). */
function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/** Whether `spec` still shows a finding of class `kind`. */
async function shows(spec: CaseSpec, kind: string): Promise<Finding | null> {
  const findings = await runCase(spec, targetFor(spec.kind));
  return findings.find((f) => f.kind === kind) ?? null;
}

/** Cuts the step list down (delta debugging: drop chunks while the class still shows),
 * within a bounded number of runs. */
export async function minimize(spec: CaseSpec, kind: string, log: (line: string) => void = () => {}, maxRuns = 400): Promise<CaseSpec> {
  let best = spec;
  let runs = 0;
  const first = await shows(best, kind);
  runs++;
  if (!first) {
    log(`[fuzz]   (the case does not show ${kind} again when replayed: not deterministic)`);
    return spec;
  }
  // Steps after the one that showed it are not needed, unless it showed at the end.
  if (first.step >= 0 && first.step + 1 < best.steps.length) {
    const cut = { ...best, steps: best.steps.slice(0, first.step + 1) };
    runs++;
    if (await shows(cut, kind)) best = cut;
  }
  let chunks = 2;
  while (runs < maxRuns && best.steps.length > 0) {
    const size = Math.ceil(best.steps.length / chunks);
    let removed = false;
    for (let start = 0; start < best.steps.length && runs < maxRuns; start += size) {
      const steps: Step[] = [...best.steps.slice(0, start), ...best.steps.slice(start + size)];
      const candidate = { ...best, steps };
      runs++;
      if (await shows(candidate, kind)) {
        best = candidate;
        removed = true;
        break;
      }
    }
    if (removed) chunks = Math.max(2, chunks - 1);
    else if (size === 1) break;
    else chunks = Math.min(best.steps.length, chunks * 2);
  }
  const at = await shows(best, kind);
  log(`[fuzz]   cut to ${best.steps.length} step(s) of ${spec.steps.length} in ${runs} runs; shows at step ${at?.step ?? "?"}: ${at?.message ?? ""}`);
  return best;
}

export function describeSteps(steps: readonly Step[]): string {
  return steps.map((s, i) => `[${i}] ${s.action}`).join(" ");
}
