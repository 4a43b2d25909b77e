// The network interface card as the protocol stack above it sees it: one Ethernet link
// that sends and receives whole frames. The virtio-net driver's NetDevice implements it
// (drivers/net/net-device.ts); tests implement it with a wire of their own. The stack in
// net/ imports nothing else of the drivers, so it runs over any NIC with this shape.

/** One Ethernet link. Frames are whole Ethernet frames: destination MAC first, no FCS. */
export interface Nic {
  /** The station address (6 bytes; the implementation may hand out a copy). */
  readonly mac: Uint8Array;
  /** Largest payload of one frame (the IP packet), 1500 on a plain Ethernet. */
  readonly mtu: number;
  /** Whether the link is up now. */
  readonly linkUp: boolean;
  /** Set by the stack: called with each received frame (the stack may keep it). */
  onReadable: ((frame: Uint8Array) => void) | null;
  /** Set by the stack: called when the link goes up or down. */
  onLinkChange: ((up: boolean) => void) | null;
  /** Set by the stack, where the NIC has it: the network asks us to announce ourselves
   * (after a migration: virtio-net GUEST_ANNOUNCE); the stack sends a gratuitous ARP. */
  onAnnounce?: (() => void) | null;
  /** Sends one frame (14 to 14 + mtu bytes); the NIC copies it. Throws when it cannot be
   * queued now (the implementation's own error for a full queue or a closed device). */
  write(frame: Uint8Array): void;
}

/** Something that runs on a NIC and can be started and stopped with it (an IP stack). */
export interface NicClient {
  /** The NIC reached a working state for the first time. */
  start(): void;
  /** The NIC is gone for good (unbound): stop timers, drop state. Safe twice. */
  close(): void;
}
