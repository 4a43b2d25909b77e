/* MMU: a flat identity map of the low 4 GiB in 2 MiB blocks, 4 KiB granule, 48-bit virtual
 * addresses (TCR_EL1.T0SZ 16: levels 0-3; level 2 holds the blocks; Arm ARM D5.2). Memory
 * types by MAIR_EL1 index:
 *   0  Device-nGnRE          [0, RAM base): the devices; execute-never
 *   1  Normal write-back     RAM (from the DTB)
 *   2  Normal non-cacheable  the DMA pool (link.ld, 2 MiB aligned), unless every
 *                            virtio-mmio node of the DTB is `dma-coherent` (QEMU's are):
 *                            then write-back like RAM. Execute-never.
 * Above RAM nothing is mapped (a stray access is a data abort) until hot-plugged RAM is.
 * mmu_boot (start.S, before C touches memory unaligned: with the MMU off all memory is
 * Device) maps RAM up to 4 GiB with the pool non-cacheable; mmu_init, once the DTB is
 * read, unmaps what is not RAM and, for coherent DMA, makes the pool write-back (break
 * before make: invalid, TLB invalidate, new entry; nothing used the pool yet). */
#include "board.h"

/* Level 0, level 1, four level 2 tables; in .bss, so start.S has zeroed them. */
static uint64_t page_tables[6 * 512] __attribute__((aligned(4096)));

#define ENTRIES 512u
#define BLOCK_SHIFT 21
#define BLOCK_SIZE (1u << BLOCK_SHIFT)
#define BLOCKS (4u * ENTRIES) /* 4 GiB / 2 MiB */
#define DESC_TABLE 3ull
#define DESC_BLOCK 1ull
#define ATTR_INDEX(n) ((uint64_t)(n) << 2)
#define SH_INNER (3ull << 8)
#define AF (1ull << 10)
#define PXN (1ull << 53)
#define UXN (1ull << 54)

#define MAIR_VALUE (0x04ull | (0xFFull << 8) | (0x44ull << 16))
#define BLK_DEVICE (DESC_BLOCK | ATTR_INDEX(0) | AF | PXN | UXN)
#define BLK_RAM (DESC_BLOCK | ATTR_INDEX(1) | SH_INNER | AF)
#define BLK_DMA_NC (DESC_BLOCK | ATTR_INDEX(2) | SH_INNER | AF | PXN | UXN)
#define BLK_DMA_WB (BLK_RAM | PXN | UXN)

static uint64_t* const l0 = page_tables;
static uint64_t* const l1 = page_tables + ENTRIES;
static uint64_t* const l2 = page_tables + 2 * ENTRIES;

#define RAM_LOW 0x40000000u /* virt: RAM starts at 1 GiB; below is devices */

static int in_dma_pool(uint32_t block) {
	uint32_t a = block << BLOCK_SHIFT;
	return a >= PTR_ADDR(__dma_start) && a < PTR_ADDR(__dma_end);
}

static void tlb_flush_all(void) {
	__asm__ volatile("dsb ishst\n tlbi vmalle1\n dsb ish\n isb" ::: "memory");
}

static void tlb_flush_block(uint32_t block) {
	uint64_t va = (uint64_t)block << BLOCK_SHIFT;
	__asm__ volatile("dsb ishst\n tlbi vaae1, %0\n dsb ish\n isb" ::"r"(va >> 12) : "memory");
}

void mmu_boot(void) {
	l0[0] = (uint64_t)(uintptr_t)l1 | DESC_TABLE;
	for (uint32_t i = 0; i < 4; i++) l1[i] = (uint64_t)(uintptr_t)(l2 + i * ENTRIES) | DESC_TABLE;
	for (uint32_t b = 0; b < BLOCKS; b++) {
		uint64_t pa = (uint64_t)b << BLOCK_SHIFT;
		l2[b] = pa | (pa < RAM_LOW ? BLK_DEVICE : in_dma_pool(b) ? BLK_DMA_NC : BLK_RAM);
	}
	uint64_t mmfr0;
	__asm__ volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
	uint64_t tcr = 16ull              /* T0SZ: 48-bit VA */
		| (1ull << 8) | (1ull << 10)  /* table walks inner/outer write-back */
		| (3ull << 12)                /* inner shareable */
		| (0ull << 14)                /* TG0 4 KiB */
		| (1ull << 23)                /* EPD1: no TTBR1 walks */
		| ((mmfr0 & 7ull) << 32);     /* IPS = the CPU's physical address size */
	__asm__ volatile(
		"msr mair_el1, %0\n"
		"msr tcr_el1, %1\n"
		"msr ttbr0_el1, %2\n"
		"dsb ish\n isb\n"
		"tlbi vmalle1\n dsb ish\n isb\n"
		:: "r"(MAIR_VALUE), "r"(tcr), "r"((uint64_t)(uintptr_t)l0) : "memory");
	uint64_t sctlr;
	__asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
	sctlr |= (1ull << 0) | (1ull << 2) | (1ull << 12); /* M, C, I */
	sctlr &= ~((1ull << 1) | (1ull << 19));           /* A (unaligned loads are fine on Normal memory), WXN */
	__asm__ volatile("msr sctlr_el1, %0\n isb\n ic iallu\n dsb ish\n isb" :: "r"(sctlr) : "memory");
}

void mmu_init(uint32_t ram_base, uint32_t ram_size) {
	uint32_t first = ram_base >> BLOCK_SHIFT;
	uint64_t end = (uint64_t)ram_base + ram_size;
	for (uint32_t b = RAM_LOW >> BLOCK_SHIFT; b < BLOCKS; b++) {
		uint64_t pa = (uint64_t)b << BLOCK_SHIFT;
		if (b < first || pa >= end) l2[b] = 0;
		else if (in_dma_pool(b) && g_board.dma_coherent) {
			l2[b] = 0;
			tlb_flush_block(b);
			l2[b] = pa | BLK_DMA_WB;
		}
	}
	tlb_flush_all();
}

/* Hot-plugged RAM (virtio-mem, platform/xs/page_pool.c): whole 2 MiB blocks above the end of
 * RAM and below 4 GiB become Normal write-back, execute-never, or, unmapped, invalid again.
 * Returns 0, or -1 for a range this rule refuses (nothing changed then). */
int mmu_hotplug(uint32_t phys, uint32_t size, int map, uint32_t ram_end) {
	if ((phys & (BLOCK_SIZE - 1)) || (size & (BLOCK_SIZE - 1)) || size == 0) return -1;
	if (phys < ram_end || (uint64_t)phys + size > 0x100000000ull) return -1;
	for (uint32_t b = phys >> BLOCK_SHIFT; b < (phys >> BLOCK_SHIFT) + (size >> BLOCK_SHIFT); b++) {
		l2[b] = map ? (((uint64_t)b << BLOCK_SHIFT) | BLK_RAM | PXN | UXN) : 0;
		tlb_flush_block(b);
	}
	return 0;
}
