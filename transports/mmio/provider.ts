// The virtio-mmio transport provider: one candidate per virtio-mmio window the device
// tree lists (BoardInfo.virtioMmio), slot = window index in address order.

import type { Platform } from "../../platform/platform.js";
import type { TransportCandidate, TransportProvider } from "../../drivers/virtio/transport-provider.js";
import { probeMmio } from "./mmio-transport.js";

export const mmioTransports: TransportProvider = {
  name: "mmio",
  candidates(platform: Platform): TransportCandidate[] {
    return platform.board.virtioMmio.map((window) => ({
      slot: window.slot,
      base: window.base,
      probe: () => probeMmio(platform, window),
    }));
  },
};
