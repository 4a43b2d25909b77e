// Draining a virtqueue after a used-buffer interrupt (VIRTIO 1.2 §2.7.14): take every
// used entry, then re-enable interrupts and look once more, so that an entry the device
// added in between is not left waiting for an interrupt that will not come (§2.7.10).

import type { Completion, Virtqueue } from "../../ring/virtqueue.js";

/**
 * Re-checks in a row that said "more" while pop() then found nothing. With a sane device
 * used idx only moves forward, so the pop after such a re-check always finds an entry; a
 * device whose used idx flips back and forth between the two reads could otherwise keep
 * the loop (and the whole event loop) going for ever.
 */
export const MAX_EMPTY_RECHECKS = 2;

/**
 * Pops every completion of `queue` and passes it to `handle`, in used-ring order.
 * Bounded: at most `limit` completions per call, and at most MAX_EMPTY_RECHECKS
 * re-checks in a row that yield nothing (a device cannot keep the loop going for ever).
 * A ring violation (RingError from pop) is thrown to the caller, which fails its
 * requests; the queue stays broken. Returns how many completions were handled.
 *
 * Stopped by `limit` while entries are still waiting, no interrupt will come for them
 * (with EVENT_IDX the device interrupts only when used idx passes used_event, §2.7.10):
 * `again` is called to drain again soon, or, without it, the rest is drained from a
 * promise job (a ring error found there stays on the queue, which every later call throws).
 */
export function drainQueue<T>(queue: Virtqueue<T>, handle: (completion: Completion<T>) => void, limit = queue.size * 4, again?: () => void): number {
  let handled = 0;
  let emptyRechecks = 0;
  for (;;) {
    queue.disableInterrupts();
    let completion = queue.pop();
    emptyRechecks = completion === null ? emptyRechecks + 1 : 0;
    while (completion !== null) {
      handle(completion);
      if (++handled >= limit) {
        if (queue.enableInterrupts()) {
          if (again !== undefined) again();
          else void Promise.resolve().then(() => drainLater(queue, handle, limit));
        }
        return handled;
      }
      completion = queue.pop();
    }
    // enableInterrupts() tells if entries arrived meanwhile: then go round again.
    if (!queue.enableInterrupts()) return handled;
    if (emptyRechecks >= MAX_EMPTY_RECHECKS) return handled;
  }
}

function drainLater<T>(queue: Virtqueue<T>, handle: (completion: Completion<T>) => void, limit: number): void {
  if (queue.broken !== null) return;
  try {
    drainQueue(queue, handle, limit);
  } catch {
    // a RingError: the queue is broken and says so to its owner's next call
  }
}
