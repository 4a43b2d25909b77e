// virtio-rng for applications (ECMA-419 has no entropy class): random bytes from the
// first entropy device. Asynchronous: the device answers through its queue.
//   const bytes = new Uint8Array(await device.entropy.read(16));

import { provider } from "./context.js";

/** `count` (1 to 65536) random bytes from the first virtio-rng device. */
export async function readEntropy(count: number): Promise<ArrayBuffer> {
  if (!Number.isInteger(count) || count < 1 || count > 65536) throw new RangeError(`count ${count} must be an integer from 1 to 65536`);
  const rng = provider("entropy").drivers.rng.devices()[0];
  if (rng === undefined) throw new RangeError("no entropy source: this board has no virtio-rng device");
  const bytes = await rng.read(count);
  return bytes.slice().buffer as ArrayBuffer;
}
