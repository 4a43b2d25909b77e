// The ports of one virtio console device (VIRTIO 1.2 §5.3), kept across re-initializations.
// Without MULTIPORT: port 0 alone on queues 0 and 1. With it: port 0, the control queues
// (console-control.ts) and a receive/transmit queue pair for each port 1.. that this driver
// serves (at most `maxPorts`, within max_nr_ports), all created at probe (§3.1.1 step 7).
// Emergency write (EMERG_WRITE): one byte per emerg_wr write, needing no queue at all.

import type { DmaBuffer } from "../../platform/platform.js";
import type { VirtioDevice } from "../virtio/device.js";
import type { RemoveReason } from "../virtio/driver.js";
import { QueueSetupError } from "../virtio/errors.js";
import { ConsoleConfig, ConsoleFeature, ConsoleQueue, receiveQueueOf, transmitQueueOf } from "./constants.js";
import { ConsoleControl } from "./console-control.js";
import { ConsolePort, type ConsolePortOptions, type ConsoleSize } from "./console-port.js";
import { ConsoleConfigError } from "./errors.js";
import { utf8Encode } from "./utf8.js";

export interface ConsolePortsOptions extends ConsolePortOptions {
  /** Descriptors per queue (capped by QueueNumMax). Default 64. */
  readonly queueSize?: number;
  /** Ports served with MULTIPORT, port 0 included (queues for each, created at probe);
   * the device's other ports are answered PORT_READY 0. Default 8. */
  readonly maxPorts?: number;
}

/** §5.3.4: max_nr_ports this driver accepts at most (queues 2n+2, 2n+3 must stay below 65536). */
const MAX_NR_PORTS = 0x7fff;

export class ConsolePorts {
  readonly #device: VirtioDevice;
  readonly #options: ConsolePortsOptions;
  /** Every port served so far, by id (port 0 always). */
  readonly #ports = new Map<number, ConsolePort>();
  #control: ConsoleControl | null = null;
  #maxNrPorts = 1;
  /** Ports with queues in this session: ids 0 .. #served-1. */
  #served = 1;
  /** What ports tell the control queue (PORT_OPEN as a Serial takes or leaves one). */
  readonly #portControl = { guestOpen: (port: ConsolePort, open: boolean) => this.#control?.guestOpen(port, open) };

  constructor(device: VirtioDevice, options: ConsolePortsOptions = {}) {
    const maxPorts = options.maxPorts ?? 8;
    if (!Number.isInteger(maxPorts) || maxPorts < 1 || maxPorts > MAX_NR_PORTS) throw new RangeError(`maxPorts ${maxPorts} must be an integer from 1 to ${MAX_NR_PORTS}`);
    this.#device = device;
    this.#options = options;
    this.#ports.set(0, new ConsolePort(device, options, 0, this.#portControl));
  }

  get location(): string {
    return this.#device.location;
  }

  /** Port 0: the console without MULTIPORT, and queues 0/1 with it. */
  get port0(): ConsolePort {
    return this.#ports.get(0)!;
  }

  /** True when MULTIPORT was negotiated (control queues in use). */
  get multiport(): boolean {
    return this.#control !== null;
  }

  /** max_nr_ports from the config (1 without MULTIPORT). */
  get maxNrPorts(): number {
    return this.#maxNrPorts;
  }

  /** The control queue, with MULTIPORT. */
  get control(): ConsoleControl | null {
    return this.#control;
  }

  /** Port 0 and every port the device added (present), by id. */
  list(): ConsolePort[] {
    return [...this.#ports.values()].filter((p) => p.id === 0 || p.present).sort((a, b) => a.id - b.id);
  }

  /** The present port named `name`, if any. */
  find(name: string): ConsolePort | undefined {
    for (const port of this.#ports.values()) if (port.present && port.name === name) return port;
    return undefined;
  }

  /** From the driver's probe: config checked, every queue created, buffers allocated. */
  probe(): void {
    const device = this.#device;
    const multiport = device.hasFeature(ConsoleFeature.MULTIPORT);
    const max = multiport ? device.readConfig((c) => c.u32(ConsoleConfig.MAX_NR_PORTS)) : 1;
    // §5.3.4: with MULTIPORT, max_nr_ports is valid: at least port 0, and its queue
    // numbers must exist.
    if (max < 1 || max > MAX_NR_PORTS) throw new ConsoleConfigError(device.location, `max_nr_ports ${max} (1 to ${MAX_NR_PORTS})`);
    this.#maxNrPorts = max;
    const size = this.#options.queueSize ?? 64;
    const port0 = this.port0;
    const rxq0 = device.createQueue<DmaBuffer>(ConsoleQueue.RECEIVE0, { size, onUsed: () => port0.onReceiveUsed() });
    const txq0 = device.createQueue<DmaBuffer>(ConsoleQueue.TRANSMIT0, { size, onUsed: () => port0.onTransmitUsed() });
    port0.attach(rxq0, txq0, readSize(device));
    if (!multiport) {
      this.#control = null;
      this.#served = 1;
      return;
    }
    const maxNrPorts = (): number => this.#maxNrPorts;
    const control = (this.#control ??= new ConsoleControl(device, {
      get maxNrPorts() {
        return maxNrPorts();
      },
      served: (id) => (id < this.#served ? this.#ports.get(id) : undefined),
      all: () => [...this.#ports.values()],
    }));
    const rxc = device.createQueue<DmaBuffer>(ConsoleQueue.CONTROL_RECEIVE, { size, onUsed: () => control.onReceiveUsed() });
    const txc = device.createQueue<DmaBuffer>(ConsoleQueue.CONTROL_TRANSMIT, { size, onUsed: () => control.onTransmitUsed() });
    control.attach(rxc, txc);
    this.#served = 1;
    const wanted = Math.min(max, this.#options.maxPorts ?? 8);
    for (let id = 1; id < wanted; id++) {
      let port = this.#ports.get(id);
      if (port === undefined) {
        port = new ConsolePort(device, this.#options, id, this.#portControl);
        this.#ports.set(id, port);
      }
      const p = port;
      let rxq, txq;
      try {
        rxq = device.createQueue<DmaBuffer>(receiveQueueOf(id), { size, onUsed: () => p.onReceiveUsed() });
        txq = device.createQueue<DmaBuffer>(transmitQueueOf(id), { size, onUsed: () => p.onTransmitUsed() });
      } catch (error) {
        // A queue the transport does not have (QueueNumMax 0): serve the ports before it.
        if (error instanceof QueueSetupError) break;
        throw error;
      }
      p.attach(rxq, txq, null);
      this.#served = id + 1;
    }
  }

  /** DRIVER_OK: port 0 live; with MULTIPORT the control queue starts (DEVICE_READY). */
  start(): void {
    this.port0.start();
    this.#control?.start();
  }

  /** The device was reset (or unbound): every queue's buffers back and freed. */
  detach(reason: RemoveReason): void {
    this.#control?.detach();
    for (const port of this.#ports.values()) port.detach(reason);
  }

  /** §5.3.4: a config change (the size of port 0 may have changed). */
  configChanged(): void {
    this.port0.resized(readSize(this.#device));
  }

  /**
   * Emergency write (§5.3.4 emerg_wr, EMERG_WRITE): each byte of `text` (UTF-8) written to
   * emerg_wr, no queue involved, for panic messages. False if the device does not offer it.
   */
  emergencyWrite(text: string): boolean {
    const device = this.#device;
    // §5.3.4: emerg_wr may be written at any time, even before negotiation, once offered.
    if ((device.offeredFeatures & (1n << BigInt(ConsoleFeature.EMERG_WRITE))) === 0n) return false;
    for (const byte of utf8Encode(text)) device.writeConfig32(ConsoleConfig.EMERG_WR, byte);
    return true;
  }
}

/** cols and rows when SIZE was negotiated (one generation-checked read), else null. */
function readSize(device: VirtioDevice): ConsoleSize | null {
  if (!device.hasFeature(ConsoleFeature.SIZE)) return null;
  return device.readConfig((c) => ({ cols: c.u16(ConsoleConfig.COLS), rows: c.u16(ConsoleConfig.ROWS) }));
}
