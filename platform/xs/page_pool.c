/* The page pool (platform/page-pool.ts): the RAM above the C heap's limit, up to the end of
 * RAM found in the DTB. The C heap (newlib's malloc: XS chunks and slots) keeps what the
 * engine may use (the manifest's creation.limit) plus a margin; the rest is handed out in
 * 4 KiB pages by the TypeScript side, e.g. to virtio-balloon. Nothing in C touches it. */
#include "board.h"
#include "xs.h"
#include "natives.h"

/* What the C heap keeps beyond the engine's limit: newlib's own blocks, fragmentation. */
#define C_HEAP_MARGIN 0x400000u
#define PAGE 0x1000u

static uint32_t pool_base, pool_end;

uint32_t page_pool_init(uint32_t heap_start, uint32_t ram_end, uint32_t engine_limit) {
	uint32_t heap_end = heap_start + engine_limit + C_HEAP_MARGIN;
	heap_end = (heap_end + PAGE - 1) & ~(PAGE - 1);
	if (heap_end < heap_start || heap_end >= ram_end) { /* no room: no pool, the heap keeps RAM */
		pool_base = pool_end = ram_end;
		return ram_end;
	}
	pool_base = heap_end;
	pool_end = ram_end & ~(PAGE - 1);
	return heap_end;
}

static void xs_page_pool_base(xsMachine* the) { xsResult = xsNumber((double)pool_base); }

static uint32_t arg_u32(xsMachine* the, int i) {
	double v = xsToNumber(xsArg(i));
	if (!(v >= 0 && v <= 4294967295.0) || v != (double)(uint32_t)v) xsRangeError("not a 32-bit address or size: %g", v);
	return (uint32_t)v;
}

/* __xsMapRam(phys, size): hot-plugged memory (virtio-mem) mapped as RAM, as a host buffer. */
static void xs_map_ram(xsMachine* the) {
	uint32_t phys = arg_u32(the, 0), size = arg_u32(the, 1);
	if (mmu_hotplug(phys, size, 1, pool_end) != 0)
		xsRangeError("cannot map 0x%08lx+0x%lx as RAM: whole MMU blocks (1 MiB on arm32, 2 MiB on aarch64) above RAM, below 4 GiB", (unsigned long)phys, (unsigned long)size);
	xsResult = xsNewHostObject(NULL);
	xsSetHostBuffer(xsResult, ADDR_PTR(phys), size);
}

/* __xsUnmapRam(phys, size): the sections fault again. */
static void xs_unmap_ram(xsMachine* the) {
	uint32_t phys = arg_u32(the, 0), size = arg_u32(the, 1);
	if (mmu_hotplug(phys, size, 0, pool_end) != 0)
		xsRangeError("cannot unmap 0x%08lx+0x%lx", (unsigned long)phys, (unsigned long)size);
}

static void xs_page_pool_region(xsMachine* the) {
	xsResult = xsNewHostObject(NULL);
	xsSetHostBuffer(xsResult, ADDR_PTR(pool_base), pool_end - pool_base);
}

/* Runs inside natives_install's host block, which holds one xsVar. */
void page_pool_natives(xsMachine* the) {
	xsVar(0) = xsNewHostFunction(xs_page_pool_base, 0);
	xsDefine(xsGlobal, xsID("__xsPagePoolBase"), xsVar(0), xsDontEnum);
	xsVar(0) = xsNewHostFunction(xs_page_pool_region, 0);
	xsDefine(xsGlobal, xsID("__xsPagePoolRegion"), xsVar(0), xsDontEnum);
	xsVar(0) = xsNewHostFunction(xs_map_ram, 2);
	xsDefine(xsGlobal, xsID("__xsMapRam"), xsVar(0), xsDontEnum);
	xsVar(0) = xsNewHostFunction(xs_unmap_ram, 2);
	xsDefine(xsGlobal, xsID("__xsUnmapRam"), xsVar(0), xsDontEnum);
}
