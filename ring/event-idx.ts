// The EVENT_IDX rule (VIRTIO 1.2 §2.7.10, the spec's vring_need_event): the other side asked
// to be told once its event index is passed, i.e. when the index moving from `oldIdx` to
// `newIdx` stepped over `event`. All three are 16-bit ring indices that wrap at 65536.
export function needEvent(event: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
