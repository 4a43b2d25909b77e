// INTx routing: a function's pin (INTA-INTD) is swizzled by every bridge on the way up
// (PCI-to-PCI Bridge 1.2 §9.1: pin' = (pin - 1 + device) mod 4 + 1), then the host
// bridge's `interrupt-map` (under `interrupt-map-mask`) names the GIC line of the
// (device, pin) on the root bus.

import type { PciHostInfo } from "../platform/platform.js";

/** Swizzles `pin` of `device` through one bridge. */
export function swizzle(pin: number, device: number): number {
  return ((pin - 1 + device) % 4) + 1;
}

/**
 * The INTID of `pin` (1-4) of a function, given the device numbers from the root bus
 * down (`path[0]` on the root bus ... `path[last]` the function's own device); null for
 * no pin or no route.
 */
export function routeIntx(host: PciHostInfo, path: readonly number[], pin: number): number | null {
  if (pin < 1 || pin > 4 || path.length === 0) return null;
  let p = pin;
  for (let i = path.length - 1; i > 0; i--) p = swizzle(p, path[i]!);
  const device = path[0]! & host.interruptMask.device;
  const masked = p & host.interruptMask.pin;
  const route = host.interruptMap.find((r) => (r.device & host.interruptMask.device) === device && (r.pin & host.interruptMask.pin) === masked);
  return route?.irq ?? null;
}
