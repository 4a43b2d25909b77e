// The host model's public surface: import from "platform/host/index.js" in tests.

export { createHostModel, HostModel, VIRTIO_MMIO_BASE, VIRTIO_MMIO_FIRST_IRQ } from "./host-platform.js";
export type { HostModelOptions, BarrierCounts } from "./host-platform.js";
export { MmioDeviceModel } from "./virtio-mmio-device.js";
export type { MmioDeviceOptions, DeviceCounters } from "./virtio-mmio-device.js";
export type { DeviceModel, DeviceContext, ConfigField } from "./device-model.js";
export { DeviceChain } from "./chain.js";
export type { Segment } from "./chain.js";
export { DeviceQueue } from "./device-queue.js";
export type { QueueCounters, RingLayout } from "./device-queue.js";
export { noFaults } from "./faults.js";
export type { DeviceFaults } from "./faults.js";
export { PhysicalMemory, DEFAULT_RAM_BASE, DEFAULT_RAM_SIZE } from "./memory.js";
export { MmioBus } from "./mmio-bus.js";
export type { MmioHandler, MmioWidth } from "./mmio-bus.js";
export { HostInterrupts } from "./interrupts.js";
export { HostConsole } from "./console.js";
export { HostTimers } from "./timers.js";
export type { Violation } from "./violations.js";
export { HostModelError, MemoryAccessError, MmioAccessError, HostModelUsageError, ViolationsError } from "./errors.js";
export { RngDevice, VIRTIO_ID_ENTROPY } from "./devices/rng-device.js";
export type { RngDeviceOptions } from "./devices/rng-device.js";
export * as virtio from "./virtio-constants.js";
