// The virtio-9p driver: binds to device ID 9, accepts VIRTIO_9P_F_MOUNT_TAG, reads the
// mount tag from the config (le16 tag_len, then the tag), sets up the one request queue
// and hands out one NinepClient (with its NinepFiles) per device.

import type { PendingRequest } from "../../ring/requests.js";
import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { NinepProtocolError } from "./errors.js";
import { utf8Decode } from "./ninep-codec.js";
import { NinepClient, type NinepOptions } from "./ninep-client.js";
import { NinepFiles } from "./ninep-files.js";
import { CONFIG_TAG, CONFIG_TAG_LEN, VIRTIO_9P_F_MOUNT_TAG } from "./ninep-spec.js";

const REQUEST_QUEUE = 0;
/** Longest mount tag accepted (QEMU allows 31 bytes; Linux reads what tag_len says). */
export const MAX_TAG_BYTES = 255;

export interface NinepDriverOptions extends NinepOptions {
  /** Descriptors in the request queue. Default 32 (each request uses two). */
  readonly queueSize?: number;
}

/** A bound 9p device: its client and the files API on it. */
export class NinepShare {
  readonly files: NinepFiles;
  constructor(readonly client: NinepClient) {
    this.files = new NinepFiles(client);
  }
  get tag(): string {
    return this.client.mountTag;
  }
  get location(): string {
    return this.client.location;
  }
  start(): void {
    this.client.start();
  }
  detach(reason: RemoveReason): void {
    this.client.detach(reason);
  }
}

export class NinepDriver implements VirtioDriver {
  readonly name = "virtio-9p";
  readonly deviceIds = [DeviceId.NINEP];
  readonly #options: NinepDriverOptions;
  readonly #shares = new DeviceHandles((device) => new NinepShare(new NinepClient(device, this.#options)));

  constructor(options: NinepDriverOptions = {}) {
    this.#options = options;
  }

  features(offered: bigint): bigint {
    return offered & (1n << BigInt(VIRTIO_9P_F_MOUNT_TAG));
  }

  probe(device: VirtioDevice): void {
    const share = this.#shares.obtain(device);
    let tag = "";
    if (device.hasFeature(VIRTIO_9P_F_MOUNT_TAG)) {
      const bytes = device.readConfig((c) => {
        const len = c.u16(CONFIG_TAG_LEN);
        if (len > MAX_TAG_BYTES) throw new NinepProtocolError("bad-config", `mount tag_len ${len} (at most ${MAX_TAG_BYTES})`, { tagLen: len });
        const out = new Uint8Array(len);
        for (let i = 0; i < len; i++) out[i] = c.u8(CONFIG_TAG + i);
        return out;
      });
      const end = bytes.indexOf(0); // a NUL-padded tag ends at its first NUL
      tag = utf8Decode(end < 0 ? bytes : bytes.subarray(0, end));
    }
    const queue = device.createQueue<PendingRequest>(REQUEST_QUEUE, {
      size: this.#options.queueSize ?? 32,
      onUsed: () => share.client.onUsed(),
    });
    share.client.attach(queue, tag);
  }

  ready(device: VirtioDevice): void {
    this.#shares.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#shares.detach(device, reason);
  }

  /** 9p shares bound to this driver, in bind order. */
  devices(): NinepShare[] {
    return this.#shares.values();
  }

  /** The share with mount tag `tag` (or the first one when no tag is given). */
  share(tag?: string): NinepShare | undefined {
    const all = this.devices();
    return tag === undefined ? all[0] : all.find((s) => s.tag === tag);
  }
}
