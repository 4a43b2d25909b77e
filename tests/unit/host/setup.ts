// Shared set-up for the host model's tests.
import { createHostModel, RngDevice, type DeviceModel, type HostModel, type HostModelOptions, type MmioDeviceModel, type MmioDeviceOptions } from "../../../platform/host/index.js";
import { HandDriver } from "./hand-driver.js";

export interface Rig {
  model: HostModel;
  dev: MmioDeviceModel;
  d: HandDriver;
}

export function rig(version: 1 | 2, device: DeviceModel = new RngDevice(), options: Partial<MmioDeviceOptions> = {}, modelOptions: HostModelOptions = { ramSize: 2 << 20, dmaSize: 1 << 20 }): Rig {
  const model = createHostModel(modelOptions);
  const dev = model.attach(31, device, { ...options, version });
  return { model, dev, d: new HandDriver(model, 31) };
}

/** The violation rule ids recorded, without duplicates, in order. */
export function rules(model: HostModel): string[] {
  return [...new Set(model.violationRules())];
}
