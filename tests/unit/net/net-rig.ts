// Set-up for the virtio-net tests: a host model with a VirtioNetModel in slot 31, the bus,
// a NetDriver, and helpers that build frames the way a peer on the wire would.

import { createHostModel, type HostModel } from "../../../platform/host/index.js";
import { VirtioNetModel, type NetModelOptions } from "../../../platform/host/devices/net-device.js";
import { createBus } from "../../../apps/bus.js";
import type { VirtioBus } from "../../../drivers/virtio/bus.js";
import { NetDriver, type NetDriverOptions } from "../../../drivers/net/net-driver.js";
import type { NetDevice } from "../../../drivers/net/net-device.js";
import { writeArp } from "../../../net/ip/arp.js";
import { IpStack, type IpStackOptions } from "../../../net/ip/ip-stack.js";
import { buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../../../net/ip/ethernet.js";
import { IPV4_HLEN, PROTO_UDP, writeIpv4Header } from "../../../net/ip/ipv4.js";
import { UDP_HLEN, writeUdp } from "../../../net/ip/udp.js";
import * as assert from "uvu/assert";

export interface NetRig {
  readonly model: HostModel;
  readonly bus: VirtioBus;
  readonly nic: VirtioNetModel;
  readonly driver: NetDriver<IpStack>;
  readonly net: NetDevice;
}

/** Driver options; `ip` runs an IpStack with those options on the device. */
export type RigDriverOptions = NetDriverOptions<IpStack> & { readonly ip?: IpStackOptions };

export async function netRig(version: 1 | 2, nicOptions: NetModelOptions = {}, rigOptions: RigDriverOptions = {}): Promise<NetRig> {
  const { ip, ...rest } = rigOptions;
  const driverOptions: NetDriverOptions<IpStack> = ip === undefined ? rest : { ...rest, stack: (n, p) => new IpStack(n, ip, p) };
  const model = createHostModel({ ramSize: 8 << 20, dmaSize: 4 << 20 });
  const nic = new VirtioNetModel(nicOptions);
  model.attach(31, nic, { version });
  const bus = createBus(model.platform);
  const driver = new NetDriver<IpStack>(driverOptions);
  await bus.register(driver);
  await bus.scan();
  await model.settle();
  const net = driver.devices()[0];
  assert.ok(net, "the driver took the device");
  return { model, bus, nic, driver, net };
}

export async function finishNet(r: NetRig): Promise<void> {
  await r.model.settle();
  await r.bus.shutdown();
  await r.model.settle();
  assert.equal(r.model.escapedErrors, [], "no exception escaped into the event loop");
  r.model.assertNoViolations();
  assert.is(r.model.dma.stats().used, 0, "all DMA memory freed");
  assert.is(r.model.timers.active, 0, "no timer left running");
  r.model.platform.powerOff();
}

export const PEER_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
export const PEER_IP = 0x0a000202; // 10.0.2.2
export const OUR_IP = 0x0a00020f; // 10.0.2.15

/** A frame of `length` bytes with a counting payload. */
export function testFrame(dst: Uint8Array, src: Uint8Array, length: number, seed = 0): Uint8Array {
  const frame = buildEthernet(dst, src, 0x88b5, length - 14); // local experimental EtherType
  for (let i = 14; i < length; i++) frame[i] = (i + seed) & 0xff;
  return frame;
}

export function arpFrame(op: number, senderMac: Uint8Array, senderIp: number, targetMac: Uint8Array, targetIp: number, dst: Uint8Array): Uint8Array {
  const frame = buildEthernet(dst, senderMac, ETHERTYPE_ARP, 28);
  writeArp(frame.subarray(14), { op, senderMac, senderIp, targetMac, targetIp });
  return frame;
}

export function udpFrame(dstMac: Uint8Array, srcMac: Uint8Array, src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const frame = buildEthernet(dstMac, srcMac, ETHERTYPE_IPV4, IPV4_HLEN + UDP_HLEN + payload.length);
  writeIpv4Header(frame.subarray(14), src, dst, PROTO_UDP, UDP_HLEN + payload.length, 7);
  writeUdp(frame.subarray(14 + IPV4_HLEN), src, dst, srcPort, dstPort, payload);
  return frame;
}

export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (in small steps of real time) until `check()` holds, at most `ms`. */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await wait(2);
  }
}
