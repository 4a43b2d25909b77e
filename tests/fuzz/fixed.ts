// Finding classes that were open defects (known.ts) and are fixed: for each, the cut-down
// case the campaign printed on a build without the fix (it showed the class there; replay
// it on such a build with `npm run fuzz -- --replay '<json>'`). The npm test slice
// (tests/unit/fuzz/fixed-replays.test.ts) replays every one and fails on any finding, so
// a fix that goes away shows at once, whatever the random slice happens to hit.
// When you remove a class from known.ts, add its --replay case here.

import type { CaseSpec } from "./engine.js";

export interface FixedClass {
  /** "<kind> (<device>)", as known.ts named it. */
  readonly finding: string;
  /** What fixed it. */
  readonly fix: string;
  readonly replay: CaseSpec;
}

export const FIXED_CLASSES: readonly FixedClass[] = [
  {
    finding: "unnamed-error (blk)",
    fix: "issue #9 defect 8: QueueOptions.minSize (blk 3), checked by the core at every re-init: QueueTooSmallError",
    replay: { kind: "blk", version: 1, seed: 1278168985, steps: [{ action: "lie-register", args: [3006116461, 759251856, 3414933565, 869968084] }, { action: "restart", args: [1334213981, 1697613596, 1322470002, 2207917187] }, { action: "settle", args: [3594975345, 2843373584, 85089518, 3371961449] }] },
  },
  {
    finding: "no-recovery (blk)",
    fix: "issue #9 defect 8 (as above): the re-init under QueueNumMax 1 fails the device; a restart once it behaves works",
    replay: { kind: "blk", version: 1, seed: 1278168985, steps: [{ action: "lie-register", args: [3006116461, 759251856, 3414933565, 869968084] }, { action: "restart", args: [1334213981, 1697613596, 1322470002, 2207917187] }, { action: "settle", args: [3594975345, 2843373584, 85089518, 3371961449] }] },
  },
  {
    finding: "unnamed-error (net)",
    fix: "issue #9 defect 8: legacy net declares 2 descriptors a frame: a queue of 1 fails the device at the re-init",
    replay: { kind: "net", version: 1, seed: 1463621422, steps: [{ action: "restart", args: [3766746486, 3842785652, 2089439644, 2626726306] }, { action: "lie-register", args: [2066362082, 2742300540, 4202311585, 4112542643] }, { action: "advance", args: [3991629442, 1890565283, 2156143850, 2429310853] }, { action: "send", args: [2135424502, 1378591771, 219718451, 3889523809] }] },
  },
  {
    finding: "no-recovery (input)",
    fix: "issue #9 defect 8 (input's form): the eventq declares 2 buffers (an event and its SYN): a re-init under QueueNumMax 1 fails the device, the probe's restart brings it back",
    replay: { kind: "input", version: 2, seed: 486340822, steps: [{ action: "needs-reset", args: [690132820, 1673809461, 3387359284, 1806971628] }, { action: "lie-register", args: [1518802996, 1857457757, 1302245551, 708790025] }, { action: "turn", args: [3208875018, 2461744730, 2726707642, 4248995388] }] },
  },
  {
    finding: "tx-stuck-after-lost-buffers (console)",
    fix: "console transmit watchdog: no buffer back for txTimeoutMs resets and re-initializes the device",
    replay: { kind: "console", version: 2, seed: 3379963590, steps: [{ action: "lose", args: [2398597156, 839666626, 655477348, 2134794869] }, { action: "write", args: [3808826495, 3262669224, 2842316557, 1604617080] }, { action: "settle", args: [959255406, 3331940771, 37941119, 1780543901] }] },
  },
  {
    finding: "no-recovery (input)",
    fix: "fuzzer (not the stack): a QueueNumMax lie at a re-init left an eventq of 4 behind an update of 6 the model held for ever; healed, the model drops an update longer than the eventq, as QEMU does (InputDeviceModel.eventqSize)",
    replay: { kind: "input", version: 1, seed: 4138977861, steps: [{ action: "restart", args: [2286599253, 841551167, 2244754718, 3834795831] }, { action: "event", args: [2658208671, 255683042, 1356285063, 3339308909] }, { action: "lie-register", args: [1527570697, 445929192, 1544625100, 823551721] }] },
  },
  {
    finding: "never-settled (blk)",
    fix: "blk: a broken ring resets the device before its requests fail (VirtioDevice.fail()): pieces waiting for bounce memory settle",
    replay: { kind: "blk", version: 1, seed: 2593113956, steps: [{ action: "lie-used", args: [691789837, 2456928355, 1755561619, 1599008052] }, { action: "read", args: [1596988879, 1939720333, 3287384501, 3000230230] }] },
  },
  {
    finding: "caller-buffer-changed (blk)",
    fix: "blk: a broken ring resets the device before its requests fail: the device no longer writes a caller's DMA memory after the rejection",
    replay: { kind: "blk", version: 1, seed: 1209858000, steps: [{ action: "lie-used", args: [2743865431, 1477094923, 1536084117, 2446830709] }, { action: "write-zeroes", args: [3457216704, 1626550085, 3169780565, 3560600810] }, { action: "turn", args: [3568782462, 3247428031, 503208516, 1247154515] }, { action: "read", args: [1794498860, 2266065274, 3475161822, 60846317] }] },
  },
  {
    finding: "tx-stuck-after-lost-buffers (net)",
    fix: "net transmit watchdog (300de34): a device holding tx buffers past txTimeoutMs is reset",
    replay: { kind: "net", version: 1, seed: 764872869, steps: [{ action: "lose", args: [1592171702, 2296880586, 4235424488, 1149904294] }, { action: "send", args: [1098764642, 92305944, 1266637784, 879703429] }, { action: "advance", args: [2461383800, 3045034770, 194698363, 1185690711] }] },
  },
  {
    finding: "violation:blk-segment-too-large (blk)",
    fix: "blk: size_max is read when a request's chain is built, not when the call starts: a re-init while the request waited (here the first under features with SIZE_MAX hidden, the next with size_max 1024) no longer posts a segment sized for the old config",
    replay: { kind: "blk", version: 1, seed: 1146258178, steps: [{ action: "restart", args: [754294957, 2537917462, 3635816365, 3463242080] }, { action: "lie-register", args: [3392013504, 1875126731, 3140700304, 1518140419] }, { action: "hold", args: [649131669, 3078410383, 2380360036, 3687748356] }, { action: "lie-register", args: [606848685, 3499598943, 711591894, 1189896757] }, { action: "read", args: [844945582, 907730235, 315233231, 693403529] }, { action: "write", args: [3021389547, 3203915188, 2107855896, 3309263138] }, { action: "advance", args: [3707411303, 1624103631, 2382163465, 2828794672] }] },
  },
  {
    finding: "never-settled (blk)",
    fix: "core: a failed device whose reset did not complete (a Status lie) is reset again later (250 ms doubling to 5 s, 60 times); once a reset completes the driver's remove fails the waiting request",
    replay: { kind: "blk", version: 1, seed: 2593113956, steps: [{ action: "lie-used", args: [691789837, 2456928355, 1755561619, 1599008052] }, { action: "read", args: [1596988879, 1939720333, 3287384501, 3000230230] }, { action: "lie-register", args: [4141932594, 3802794116, 556459344, 2054025453] }, { action: "advance", args: [1427055407, 1365538898, 4067234315, 1111291248] }] },
  },
  {
    finding: "no-recovery (blk)",
    fix: "core + blk: VirtioDriver.quiesce() when a failed device's reset did not complete: blk refuses new requests at once (not ready) instead of posting them to the quiesced ring, and the reset is retried",
    replay: { kind: "blk", version: 1, seed: 1288251085, steps: [{ action: "hold", args: [1541551559, 1455082801, 2301820088, 1423928474] }, { action: "write", args: [2091238349, 3924962990, 1824829173, 1848981969] }, { action: "lie-register", args: [4153534126, 4176532884, 10654097, 3832880083] }, { action: "advance", args: [3989968445, 4137186297, 1494375780, 2861759092] }, { action: "advance", args: [2424623248, 4046065234, 606261501, 2441774246] }] },
  },
  {
    finding: "unnamed-error (blk)",
    fix: "blk: a piece planned before a re-initialization that shrank seg_max/size_max fails with BlkConfigError when its chain is built (not a RingUsageError ChainTooLong), its bounce memory freed",
    replay: { kind: "blk", version: 1, seed: 1631751843, steps: [{ action: "hold", args: [453342848, 3977317338, 652180463, 1326293692] }, { action: "junk-config", args: [996512717, 2155427454, 2938363111, 3805831820] }, { action: "needs-reset", args: [2702421585, 708786590, 894889770, 3701385319] }, { action: "advance", args: [1841557539, 150574362, 3018107551, 3662197394] }, { action: "write", args: [4089608057, 1475478747, 3111669589, 1572612232] }, { action: "read", args: [3890801632, 664002882, 1472728917, 2593470259] }, { action: "read", args: [596750411, 2968298123, 1478090018, 329746424] }, { action: "read", args: [2321284224, 4070635503, 3114138239, 2254117374] }, { action: "write", args: [3144537905, 580863804, 3399137893, 1084024807] }, { action: "lose", args: [1094258468, 3813794424, 4112768608, 665017047] }, { action: "read", args: [377925009, 2532148948, 4128468945, 1653680965] }, { action: "hold", args: [433496486, 3254207401, 1746419200, 2483302589] }, { action: "write", args: [1814302241, 3257067553, 3180030316, 1321331708] }, { action: "read", args: [1015239783, 2021375719, 2999480352, 1204256457] }, { action: "turn", args: [3215309506, 71061879, 1271652476, 906701781] }] },
  },
];
