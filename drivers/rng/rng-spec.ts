// virtio-rng facts from VIRTIO 1.2 §5.4 that other layers name.

/** §5.4.3: the entropy device has no feature bits; the empty table says so to `devices`. */
export const RNG_FEATURE_NAMES: Readonly<Record<number, string>> = {};
