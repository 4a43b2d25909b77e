/* No MMU: the firmware runs with satp = 0 (bare: virtual = physical addresses). On QEMU's
 * riscv `virt` the memory attributes come from the platform (PMAs), not the page tables:
 * RAM is cacheable and coherent with every DMA master, devices are I/O, and without the
 * Svpbmt extension (absent from the default CPU) a page table could not make the DMA pool
 * non-cacheable anyway. PMP (set by OpenSBI) still faults an access to OpenSBI's own RAM
 * or to an address with nothing behind it. boards/qemu-virt-riscv64/README.md. */
#include "board.h"

void mmu_init(uint32_t ram_base, uint32_t ram_size) { (void)ram_base; (void)ram_size; }

/* Hot-plugged RAM (virtio-mem) has no place on this board: QEMU 7.2's riscv `virt` has no
 * memory-device region. Every range is refused (natives report it as a RangeError). */
int mmu_hotplug(uint32_t phys, uint32_t size, int map, uint32_t ram_end) {
	(void)phys; (void)size; (void)map; (void)ram_end;
	return -1;
}
