/* MMU: a flat identity map with 1 MiB sections (ARM ARM B3.5, short-descriptor format).
 *   RAM (from the DTB)      Normal, write-back write-allocate, executable
 *   DMA pool (link.ld)      Normal non-cacheable, execute-never: devices that do not snoop
 *                           caches see the same bytes as the CPU
 *   everything else         Device (shareable), execute-never
 * SCTLR.A stays 0: newlib and XS make unaligned loads, allowed on Normal memory. */
#include "board.h"

extern uint32_t __ttb_start[];

#define SECTION (2u)
#define B (1u << 2)
#define C (1u << 3)
#define XN (1u << 4)
#define AP_RW (3u << 10)
#define TEX(n) ((uint32_t)(n) << 12)
#define S (1u << 16)

#define ATTR_DEVICE (SECTION | B | XN | AP_RW)                   /* TEX 000 C0 B1: shareable device */
#define ATTR_RAM (SECTION | TEX(1) | C | B | AP_RW | S)          /* TEX 001 C1 B1: WB-WA */
#define ATTR_DMA (SECTION | TEX(1) | XN | AP_RW | S)             /* TEX 001 C0 B0: non-cacheable */

void mmu_init(uint32_t ram_base, uint32_t ram_size) {
	uint32_t* ttb = __ttb_start;
	uint32_t ram_first = ram_base >> 20, ram_last = (ram_base + (ram_size - 1)) >> 20;
	uint32_t dma_first = PTR_ADDR(__dma_start) >> 20, dma_last = (PTR_ADDR(__dma_end) - 1) >> 20;
	for (uint32_t i = 0; i < 4096; i++) {
		uint32_t attr = ATTR_DEVICE;
		if (i >= dma_first && i <= dma_last) attr = ATTR_DMA;
		else if (i >= ram_first && i <= ram_last) attr = ATTR_RAM;
		ttb[i] = (i << 20) | attr;
	}
	dsb();
	__asm__ volatile(
		"mcr p15, 0, %0, c2, c0, 2\n"  /* TTBCR = 0: TTBR0 only, short descriptors */
		"mcr p15, 0, %1, c2, c0, 0\n"  /* TTBR0 (table walks non-cacheable) */
		"mcr p15, 0, %2, c3, c0, 0\n"  /* DACR: domain 0 client */
		"mcr p15, 0, %0, c8, c7, 0\n"  /* TLBIALL */
		"mcr p15, 0, %0, c7, c5, 0\n"  /* ICIALLU */
		"mcr p15, 0, %0, c7, c5, 6\n"  /* BPIALL */
		"dsb\n isb\n"
		:: "r"(0), "r"((uint32_t)ttb), "r"(1u) : "memory");
	uint32_t sctlr;
	__asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
	sctlr |= (1u << 0) | (1u << 2) | (1u << 11) | (1u << 12); /* M, C, Z, I */
	sctlr &= ~((1u << 1) | (1u << 28) | (1u << 29));          /* A, TRE, AFE off */
	__asm__ volatile("mcr p15, 0, %0, c1, c0, 0\n isb" :: "r"(sctlr) : "memory");
}

/* Hot-plugged RAM (virtio-mem, platform/xs/page_pool.c): 1 MiB sections above the end of RAM
 * and below 4 GiB become Normal memory (write-back, execute-never), or, unmapped, faulting
 * entries, so that a stray access to unplugged memory is a data abort and not a silent read.
 * Returns 0, or -1 for a range this rule refuses (nothing changed then). */
int mmu_hotplug(uint32_t phys, uint32_t size, int map, uint32_t ram_end) {
	if ((phys & 0xFFFFFu) || (size & 0xFFFFFu) || size == 0) return -1;
	if (phys < ram_end || (uint64_t)phys + size > 0x100000000ull) return -1;
	uint32_t* ttb = __ttb_start;
	uint32_t first = phys >> 20, count = size >> 20;
	for (uint32_t i = first; i < first + count; i++) {
		ttb[i] = map ? ((i << 20) | ATTR_RAM | XN) : 0u;
		__asm__ volatile("mcr p15, 0, %0, c8, c7, 1" :: "r"(i << 20) : "memory"); /* TLBIMVA */
	}
	dsb();
	__asm__ volatile("mcr p15, 0, %0, c7, c5, 6\n isb" :: "r"(0) : "memory"); /* BPIALL */
	return 0;
}
