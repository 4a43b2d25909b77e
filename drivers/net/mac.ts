// MAC addresses of a virtio-net device (§5.1.4 config mac[6], §5.1.5): reading the config
// field, checking it is usable, making a random one, printing one.

import type { VirtioDevice } from "../virtio/device.js";
import { NetConfig } from "./net-spec.js";

/** Random locally administered unicast MAC (IEEE 802: bit 1 of byte 0 set, bit 0 clear). */
export function randomMac(): Uint8Array {
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) mac[i] = Math.floor(Math.random() * 256);
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  return mac;
}

/** The 6-byte mac field of the config space (§5.1.4), one generation-checked read. */
export function readConfigMac(device: VirtioDevice): Uint8Array {
  return device.readConfig((c) => {
    const m = new Uint8Array(6);
    for (let i = 0; i < 6; i++) m[i] = c.u8(NetConfig.MAC + i);
    return m;
  });
}

/** A unicast, non-zero address (IEEE 802: bit 0 of byte 0 clear). */
export function usableMac(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 0 && mac.some((b) => b !== 0);
}

export function formatMac(mac: Uint8Array): string {
  let s = "";
  for (let i = 0; i < mac.length; i++) s += (i ? ":" : "") + mac[i]!.toString(16).padStart(2, "0");
  return s;
}
