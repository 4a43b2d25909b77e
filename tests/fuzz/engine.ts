// The fuzz engine: one case is a device type, a transport version, a seed (which picks
// the device's and driver's options) and a list of steps, each an action with random
// arguments: a driver API call, a lie of the device, or time passing. The engine runs
// the steps, then stops every lie, waits for every call to settle, probes the driver,
// shuts the bus down and checks what is left. The same case gives the same findings on
// every run (virtual time, seeded randomness), so a failing case can be cut down.

import { noFaults } from "../../platform/host/index.js";
import { REG, STATUS } from "../../platform/host/virtio-constants.js";
import { Args, Rand } from "./random.js";
import type { DeviceKind, Driven, Target } from "./target.js";
import { describeError, World, type Finding } from "./world.js";

export interface Step {
  readonly action: string;
  readonly args: readonly number[];
}

export interface CaseSpec {
  readonly kind: DeviceKind;
  readonly version: 1 | 2;
  /** Picks the device's and the driver's options. */
  readonly seed: number;
  readonly steps: readonly Step[];
}

/** Virtual time given to calls to settle once the device behaves again. */
export const HEAL_MS = 120_000;
/** DMA a driver may hold after the case beyond what it held after bring-up (a re-init
 * may size its rings and buffers differently, e.g. under a QueueNumMax lie). */
const DMA_SLACK = 256 * 1024;
/** Calls in flight at most: past it, API actions wait (time passes instead). */
const MAX_PENDING = 96;

/** Transport-level actions every target gets: time, and the device lying. */
const COMMON: readonly (readonly [string, number])[] = [
  ["turn", 12], ["settle", 6], ["advance", 4],
  ["lie-used", 2], ["lie-irq", 2], ["spurious", 1], ["needs-reset", 1], ["config-change", 1],
  ["lie-register", 2], ["hold", 2], ["lose", 1], ["reset-delay", 1], ["refuse-features", 1], ["restart", 1],
  ["generation", 1],
];

/** The step list of a case (its own stream, apart from the configuration's). */
export function plan(target: Target, seed: number, count: number): Step[] {
  const rand = new Rand((seed ^ 0xa5a5_a5a5) >>> 0);
  const actions = [...COMMON, ...target.actions];
  const total = actions.reduce((n, [, w]) => n + w, 0);
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    let x = rand.next() * total;
    let action = actions[0]![0];
    for (const [name, w] of actions) {
      if (x < w) {
        action = name;
        break;
      }
      x -= w;
    }
    steps.push({ action, args: [rand.u32(), rand.u32(), rand.u32(), rand.u32()] });
  }
  return steps;
}

/** The world of the case running now (for unhandled rejections). */
let current: World | null = null;
let hooked = false;

function hookProcess(): void {
  if (hooked) return;
  hooked = true;
  process.on("unhandledRejection", (reason) => {
    if (current) current.report("unhandled-rejection", describeError(reason));
    else console.error("[fuzz] unhandled rejection outside a case:", reason);
  });
}

/** Runs one case; returns what broke. */
export async function runCase(spec: CaseSpec, target: Target): Promise<Finding[]> {
  hookProcess();
  const world = new World();
  current = world;
  try {
    await runIn(world, spec, target);
  } catch (e) {
    world.report("fuzzer-error", `the case threw ${describeError(e)}${e instanceof Error && e.stack ? `\n${e.stack}` : ""}`);
  } finally {
    world.time.clearAll();
    world.model.platform.powerOff();
    await world.settle();
    current = null;
  }
  return world.findings;
}

async function runIn(world: World, spec: CaseSpec, target: Target): Promise<void> {
  const driven = await target.setup(world, spec.version, new Rand(spec.seed));
  world.track("bus.scan()", world.bus.scan());
  await world.run(60_000, () => world.pending.size === 0);
  world.checkModel();
  const vd = world.bus.device(world.dev.slot);
  if (!vd || vd.step !== "DRIVER_OK") {
    world.report("bring-up-failed", `the device did not come up before any lie: ${vd?.error ? describeError(vd.error) : vd ? vd.step : "not found by the bus"}`);
    return;
  }
  const dmaAtStart = world.watch.allocatedBytes;
  for (let i = 0; i < spec.steps.length; i++) {
    world.step = i;
    const step = spec.steps[i]!;
    await runStep(world, driven, step);
    world.checkModel();
    world.watch.checkProtected();
  }
  world.step = spec.steps.length;
  // The device behaves again: every call settles, and the driver works.
  Object.assign(world.dev.faults, noFaults());
  world.dev.releaseHeld();
  driven.heal();
  // An edge the device dropped while InterruptStatus stayed set is sent now: a device
  // that behaves signals what it has pending (the line is edge-triggered on virt).
  if (world.dev.interruptStatus !== 0) world.dev.spuriousInterrupt();
  const settled = await world.run(HEAL_MS, () => world.pending.size === 0);
  if (!settled) {
    world.report("never-settled", `${world.pending.size} call(s) still pending ${HEAL_MS / 1000} s after the device behaved again: ${[...world.pending.values()].slice(0, 4).join(", ")}`);
  }
  await driven.probe();
  // What the driver holds once everything settled and it works again: its rings and
  // standing buffers, as after bring-up, not what the lies left behind.
  const driverDma = world.watch.allocatedBytes - (driven.heldDmaBytes?.() ?? 0);
  if (driverDma > dmaAtStart + DMA_SLACK) {
    world.report("dma-growth", `the driver holds ${driverDma} DMA bytes after the device behaved again, ${dmaAtStart} after bring-up`);
  }
  driven.check();
  world.watch.checkProtected();
  world.checkModel();
  // Shutdown: nothing left behind.
  driven.release();
  world.watch.dropProtected();
  world.pending.clear();
  world.track("bus.shutdown()", world.bus.shutdown());
  await world.run(60_000, () => world.pending.size === 0);
  await world.run(10_000); // timers due soon fire (a zero-delay one is not a leftover)
  world.checkModel();
  if (world.watch.allocatedBytes !== 0) world.report("dma-left-after-shutdown", `${world.watch.allocatedBytes} DMA bytes still allocated after bus.shutdown()`);
  if (world.time.active !== 0) world.report("timer-left-after-shutdown", `${world.time.active} timer(s) still scheduled after bus.shutdown()`);
  if (world.dev.status !== 0) world.report("device-not-reset", `device status 0x${world.dev.status.toString(16)} after bus.shutdown()`);
  if (world.watch.heldChains !== 0) world.report("chains-held-after-shutdown", `the device still holds ${world.watch.heldChains} chain(s) after shutdown`);
}

async function runStep(world: World, driven: Driven, step: Step): Promise<void> {
  const a = new Args(step.args);
  const dev = world.dev;
  const f = dev.faults;
  switch (step.action) {
    case "turn":
      for (let n = a.int(1, 3); n > 0; n--) await world.turn();
      return;
    case "settle":
      return world.settle();
    case "advance":
      await world.run(a.pick([1, 5, 20, 100, 500, 2000]));
      return;
    case "lie-used": {
      f.usedIdOutOfRange = f.usedIdNotHead = f.usedTwice = false;
      f.usedLenExtra = f.usedIdxAhead = 0;
      switch (a.int(0, 5)) {
        case 1: f.usedIdOutOfRange = true; break;
        case 2: f.usedIdNotHead = true; world.undetectableLie = true; break; // may name a buffer the device did not take
        case 3: f.usedLenExtra = a.pick([1, 7, 4096, 0x7fff_ffff]); break;
        case 4: f.usedTwice = true; world.undetectableLie = true; break; // the buffer may be posted again in between
        case 5: f.usedIdxAhead = a.pick([1, 2, 100, 0x8000]); world.undetectableLie = true; break; // stale elements
      }
      return;
    }
    case "lie-irq":
      f.dropInterrupts = a.chance(40);
      f.spuriousInterrupts = !f.dropInterrupts && a.chance(40);
      return;
    case "spurious":
      dev.spuriousInterrupt();
      return;
    case "needs-reset":
      // A running device asks for a reset (§2.1.2); a device in reset or being set up has nothing to ask.
      if (dev.status & STATUS.DRIVER_OK) dev.needsReset();
      return;
    case "config-change":
      dev.configChanged();
      return;
    case "lie-register":
      f.registerRead = registerLie(world, a);
      return;
    case "hold":
      f.holdChains = !f.holdChains;
      if (!f.holdChains) dev.releaseHeld(); // the stalled device answers, late
      return;
    case "lose":
      f.loseChains = !f.loseChains;
      if (f.loseChains) world.lostChains = true;
      return;
    case "reset-delay":
      f.resetDelayReads = a.pick([0, 0, 1, 3, 40]);
      return;
    case "refuse-features":
      f.refuseFeaturesOk = !f.refuseFeaturesOk;
      return;
    case "generation":
      f.configGenerationEvery = a.pick([0, 0, 1, 2, 5]);
      return;
    case "restart": {
      const vd = world.bus.device(dev.slot);
      if (vd) world.track("device.restart()", vd.restart());
      return;
    }
    default:
      if (world.pending.size >= MAX_PENDING) {
        await world.run(50);
        return;
      }
      driven.run(step.action, a);
  }
}

/** A lie about one register: what the device reports is not what it holds. */
function registerLie(world: World, a: Args): ((offset: number, width: number, value: number) => number) | null {
  const junk = a.int(0, 0xffff_ffff);
  const bit = a.pick([STATUS.DEVICE_NEEDS_RESET, STATUS.FAILED]);
  const size = a.pick([0, 1, 2, 3, 4, 8]);
  switch (a.int(0, 6)) {
    case 1: // InterruptStatus bits the device never set
      return (o, _w, v) => (o === REG.InterruptStatus ? v | (junk & 0xff) : v);
    case 2: // a generation that moves on every read
      return (() => {
        let n = 0;
        return (o: number, _w: number, v: number) => (o === REG.ConfigGeneration ? v + n++ : v);
      })();
    case 3: { // one config byte (or word) is garbage: limits read from it are the lie's
      world.excused.add("blk-too-many-segments").add("blk-segment-too-large");
      const at = REG.Config + a.int(0, 63);
      return (o, _w, v) => (o === (at & ~3) || o === at ? v ^ junk : v);
    }
    case 4: // Status reads with a bit the device did not set (the core keeps NEEDS_RESET when it fails)
      world.excused.add("status-device-bit");
      return (o, _w, v) => (o === REG.Status ? v | bit : v);
    case 5: // fewer features than offered
      return (o, _w, v) => (o === REG.DeviceFeatures ? v & junk : v);
    case 6: // a smaller queue than the device has (never larger: the device would walk past the driver's ring)
      return (o, _w, v) => (o === REG.QueueNumMax && v > 0 ? Math.min(v, size) : v);
    default:
      return null;
  }
}
