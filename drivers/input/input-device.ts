// A virtio input device for applications, in the ECMA-419 class pattern: one options
// object, checked before anything is taken; onEvent(event) for every event as it comes,
// or onReadable(count) + read() to pull them; onError(error); close() safe twice, other
// methods throw after it. The device's description is on the instance: name, serial,
// ids, bits (event type -> codes), abs (axis -> range), props.

import { EV } from "./event-codes.js";
import { InputBusyError, InputClosedError } from "./errors.js";
import type { AbsInfo, InputIds } from "./input-config.js";
import type { InputEvent, InputListener, InputPort } from "./input-port.js";

export interface InputDeviceOptions {
  /** The input port (InputDriver.ports()[n]); InputDriver.open() fills it in. */
  readonly port: InputPort;
  /** Every event as it arrives (then read() gets nothing). */
  readonly onEvent?: (this: InputDevice, event: InputEvent) => void;
  /** Without onEvent: events are queued; `count` are waiting for read(). */
  readonly onReadable?: (this: InputDevice, count: number) => void;
  /** The device broke a rule, sent a bad event, was reset or went away. */
  readonly onError?: (this: InputDevice, error: Error) => void;
}

function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") throw new TypeError(`${name} must be a function`);
}

export class InputDevice {
  #port: InputPort | null;
  readonly #listener: InputListener;
  readonly #location: string;

  constructor(options: InputDeviceOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    const { port, onEvent, onReadable, onError } = options;
    if (port === null || typeof port !== "object" || typeof port.listen !== "function") throw new TypeError("options.port must be an InputPort");
    checkCallback("onEvent", onEvent);
    checkCallback("onReadable", onReadable);
    checkCallback("onError", onError);
    if (port.closed) throw new InputClosedError(port.location, "open the device (unbound)");
    this.#location = port.location;
    this.#listener = {
      event: (event) => {
        if (onEvent === undefined) return false;
        onEvent.call(this, event);
        return true;
      },
      readable: (count) => onReadable?.call(this, count),
      error: (error) => onError?.call(this, error),
    };
    if (!port.listen(this.#listener)) throw new InputBusyError(port.location);
    this.#port = port;
    // Events queued before the open are told once, after the constructor returns.
    // Through the port's guard (tellSoon), as every later callback: a throw is recorded on
    // the device; the events after the one that threw stay queued for read().
    if (port.queued > 0) {
      port.tellSoon(this.#listener, (listener) => {
        if (port.queued === 0) return;
        if (onEvent !== undefined) for (let e = port.read(); e !== undefined; e = port.read()) listener.event(e);
        else listener.readable(port.queued);
      });
    }
  }

  get name(): string {
    return this.#info("name").name;
  }

  get serial(): string {
    return this.#info("serial").serial;
  }

  get ids(): InputIds | null {
    return this.#info("ids").ids;
  }

  /** Event type (EV_KEY, ...) -> the codes the device can send. */
  get bits(): ReadonlyMap<number, readonly number[]> {
    return this.#info("bits").bits;
  }

  get abs(): ReadonlyMap<number, AbsInfo> {
    return this.#info("abs").abs;
  }

  get props(): readonly number[] {
    return this.#info("props").props;
  }

  /** Events waiting for read(). */
  get readable(): number {
    return this.#open("readable").queued;
  }

  /** True if the device can send `type` events (and `code`, if given). */
  supports(type: number, code?: number): boolean {
    const codes = this.bits.get(type);
    return codes !== undefined && (code === undefined || codes.includes(code));
  }

  /** The oldest queued event, or undefined. */
  read(): InputEvent | undefined {
    return this.#open("read").read();
  }

  /** Sets a keyboard LED (LED_NUML 0, LED_CAPSL 1, LED_SCROLLL 2) through the statusq. */
  setLed(code: number, on: boolean): void {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError(`LED code ${code} must be an integer from 0 to 65535`);
    this.#open("set a LED").sendStatus({ type: EV.LED, code, value: on ? 1 : 0 });
  }

  /** Lets the device go; safe to call twice. */
  close(): void {
    const port = this.#port;
    if (port === null) return;
    this.#port = null;
    port.unlisten(this.#listener);
  }

  #open(operation: string): InputPort {
    if (this.#port === null) throw new InputClosedError(this.#location, operation);
    return this.#port;
  }

  #info(operation: string) {
    const info = this.#open(operation).info;
    if (info === null) throw new InputClosedError(this.#location, `${operation} (not probed)`);
    return info;
  }
}
