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

static void xs_page_pool_region(xsMachine* the) {
	xsResult = xsNewHostObject(NULL);
	xsSetHostBuffer(xsResult, (void*)pool_base, pool_end - pool_base);
}

/* Runs inside natives_install's host block, which holds one xsVar. */
void page_pool_natives(xsMachine* the) {
	xsVar(0) = xsNewHostFunction(xs_page_pool_base, 0);
	xsDefine(xsGlobal, xsID("__xsPagePoolBase"), xsVar(0), xsDontEnum);
	xsVar(0) = xsNewHostFunction(xs_page_pool_region, 0);
	xsDefine(xsGlobal, xsID("__xsPagePoolRegion"), xsVar(0), xsDontEnum);
}
