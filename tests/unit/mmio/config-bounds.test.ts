// Configuration space accesses stay inside the window's configuration space (§4.2.2:
// 0x100 to the end of the window): an offset past it would reach the next window's
// registers. Refused with a ConfigAccessError carrying the values; nothing is accessed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Platform } from "../../../platform/platform.js";
import { ConfigAccessError } from "../../../transports/mmio/errors.js";
import { MmioTransport, probeMmio } from "../../../transports/mmio/mmio-transport.js";
import { MmioReg, MMIO_MAGIC } from "../../../transports/mmio/registers.js";
import { FakeMmio } from "./fake-mmio.js";

const BASE = 0x0a003c00;

function transport(size = 0x200): { mmio: FakeMmio; t: MmioTransport } {
  const mmio = new FakeMmio(BASE);
  mmio.values.set(MmioReg.MagicValue, MMIO_MAGIC);
  mmio.values.set(MmioReg.Version, 2);
  mmio.values.set(MmioReg.DeviceID, 4);
  const t = probeMmio({ mmio } as unknown as Platform, { slot: 30, base: BASE, size, irq: 78 }) as MmioTransport;
  mmio.log.length = 0;
  return { mmio, t };
}

test("the last byte, half-word and word of the configuration space are reachable", () => {
  const { mmio, t } = transport();
  assert.is(t.configSize, 0x100);
  t.readConfig8(0xff);
  t.readConfig16(0xfe);
  t.readConfig32(0xfc);
  t.writeConfig32(0xfc, 1);
  assert.equal(mmio.log.map((a) => a.offset), [0x1ff, 0x1fe, 0x1fc, 0x1fc]);
});

const outside: [string, (t: MmioTransport) => unknown, number, number][] = [
  ["read8 at 0x100 (the next window's MagicValue)", (t) => t.readConfig8(0x100), 0x100, 1],
  ["read32 straddling the end", (t) => t.readConfig32(0xfe), 0xfe, 4],
  ["read16 at a negative offset (a register of this window)", (t) => t.readConfig16(-0x80), -0x80, 2],
  ["write8 past the end", (t) => t.writeConfig8(0x400, 1), 0x400, 1],
  ["write16 at a fractional offset", (t) => t.writeConfig16(1.5, 1), 1.5, 2],
  ["write32 at NaN", (t) => t.writeConfig32(NaN, 1), NaN, 4],
];
for (const [what, access, offset, width] of outside) {
  test(`refused: ${what}`, () => {
    const { mmio, t } = transport();
    try {
      access(t);
      assert.unreachable("should throw");
    } catch (e) {
      assert.instance(e, ConfigAccessError);
      const err = e as ConfigAccessError;
      assert.equal([err.offset, err.width, err.configSize], [offset, width, 0x100]);
    }
    assert.equal(mmio.log, [], "nothing accessed");
  });
}

test("a window without room for configuration has none", () => {
  const { t } = transport(0x100);
  assert.is(t.configSize, 0);
  assert.throws(() => t.readConfig8(0), (e: unknown) => e instanceof ConfigAccessError);
});

test.run();
