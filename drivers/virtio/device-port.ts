// The life-cycle part of a driver's per-device port (console port 0, an input device):
// attached at probe, live from DRIVER_OK, broken when the device breaks a ring rule (until
// the core resets and re-initializes it, §2.1.2), closed for good at unbind; at most one
// listener hears about it. Calls to the listener come from the event loop; what it throws
// is recorded on the device and never escapes into the loop.

import type { Platform } from "../../platform/platform.js";
import type { VirtioDevice } from "./device.js";
import type { RemoveReason } from "./driver.js";
import { DeviceRemovedError } from "./errors.js";

/** What every port listener hears: the port stopped (broken, reset or unbound). */
export interface PortListener {
  error(error: Error): void;
}

export abstract class DevicePort<L extends PortListener> {
  readonly #device: VirtioDevice;
  #live = false;
  #closed = false;
  #broken: Error | null = null;
  #listener: L | null = null;

  constructor(device: VirtioDevice) {
    this.#device = device;
  }

  protected get device(): VirtioDevice {
    return this.#device;
  }

  protected get platform(): Platform {
    return this.#device.platform;
  }

  get location(): string {
    return this.device.location;
  }

  /** True between DRIVER_OK and the start of the next reset: false as soon as the core
   * begins a reset (quiesced: writes are refused before the device stops), not only
   * once the driver's remove() runs. */
  get live(): boolean {
    return this.#live && this.#device.live;
  }

  /** True once the device was unbound: the port is gone for good. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The error that stopped the port's queues, until the device is re-initialized. */
  get broken(): Error | null {
    return this.#broken;
  }

  get opened(): boolean {
    return this.#listener !== null;
  }

  unlisten(listener: L): void {
    if (this.#listener === listener) this.#listener = null;
  }

  protected get listener(): L | null {
    return this.#listener;
  }

  /** Makes `listener` the only one; false if another has the port. */
  protected takeListener(listener: L): boolean {
    if (this.#listener !== null && this.#listener !== listener) return false;
    this.#listener = listener;
    return true;
  }

  /** During probe: new queues, not live yet, no longer broken. */
  protected attached(): void {
    this.#broken = null;
    this.#live = false;
  }

  /** At DRIVER_OK. */
  protected started(): void {
    this.#live = true;
  }

  /** The queues are gone (the device is reset): closed for good at unbind; the listener
   * hears DeviceRemovedError. */
  protected detached(reason: RemoveReason): void {
    this.#live = false;
    if (reason === "unbind") this.#closed = true;
    const error = new DeviceRemovedError(this.location, reason === "unbind" ? "device unbound" : "device reset");
    this.tell((l) => l.error(error));
  }

  /** The device broke a ring rule: the queues stay with it until the core resets it.
   * Recorded on the device (shown by `devices`) and told to the listener, once. */
  protected fail(error: Error): void {
    if (this.#broken !== null) return;
    this.#broken = error;
    this.device.reportError(error);
    this.tell((l) => l.error(error));
  }

  /** Calls `call` on `listener` in a promise job, i.e. after the caller's current call has
   * returned (ECMA-419: callbacks never run inside the constructor or a method), through
   * the same guard as every later callback (tell): only if `listener` still holds the
   * port, and what it throws is recorded on the device, never escaping into the loop. */
  tellSoon(listener: L, call: (listener: L) => void): void {
    void Promise.resolve().then(() => {
      if (this.#listener === listener) this.tell(call);
    });
  }

  /** Calls the listener, if any; what it throws is recorded on the device. */
  protected tell(call: (listener: L) => void): void {
    const listener = this.#listener;
    if (listener === null) return;
    try {
      call(listener);
    } catch (error) {
      this.device.reportError(asError(error));
    }
  }
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
