/* Native functions behind platform/xs/platform.ts (declared in natives.d.ts). Each one
 * checks its arguments and throws a RangeError or TypeError naming the bad value; none
 * reaches memory other than device registers, the DMA pool and the DTB (read-only). */
#include "xs.h"
#include "board.h"
#include "xs_glue.h"
#include "natives.h"

extern double boot_marks[2];

static uint32_t arg_u32(xsMachine* the, int i, const char* what) {
	double d = xsToNumber(xsArg(i));
	if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d)
		xsRangeError("%s: not a 32-bit unsigned integer", what);
	return (uint32_t)d;
}

/* Register values: any integer that fits the width, signed or not (JS `x | 0` is signed). */
static uint32_t arg_value(xsMachine* the, int i, uint32_t width) {
	double d = xsToNumber(xsArg(i));
	double max = width == 4 ? 4294967295.0 : width == 2 ? 65535.0 : 255.0;
	double min = width == 4 ? -2147483648.0 : width == 2 ? -32768.0 : -128.0;
	if (!(d >= min && d <= max) || d != (double)(int64_t)d)
		xsRangeError("mmio write%u: value out of range", (unsigned)(width * 8));
	return (uint32_t)(int64_t)d;
}

/* [base, base + size) holds the whole access. */
static int within(uint32_t a, uint32_t width, uint32_t base, uint32_t size) {
	return size != 0 && a >= base && a - base < size && width <= size - (a - base);
}

/* A device register address: aligned to its width and inside the span of the virtio-mmio
 * windows the DTB lists, or the PCIe bridge's ECAM, or a BAR the PCI layer has assigned
 * and claimed (pci_bars.c: not the rest of the bridge's windows), or the GICv2m frame
 * (board.h). JavaScript reaches no other device: not the GIC or the UART the firmware
 * drives, not fw_cfg (whose DMA interface writes anywhere in RAM), not flash; and never
 * RAM itself. */
static uint32_t mmio_addr(xsMachine* the, uint32_t width) {
	uint32_t a = arg_u32(the, 0, "mmio address");
	uint32_t ram_end = g_board.ram_base + g_board.ram_size;
	if (a & (width - 1)) xsRangeError("mmio: address 0x%08lx is not %u-byte aligned", (unsigned long)a, (unsigned)width);
	int virtio = a >= g_board.virtio_lo && a < g_board.virtio_hi && width <= g_board.virtio_hi - a;
	if (!virtio && !within(a, width, g_board.ecam_base, g_board.ecam_size) && !within(a, width, g_board.v2m_base, g_board.v2m_size) &&
	    !pci_bars_allow(a, width)) {
		if (within(a, width, g_board.pci_io_base, g_board.pci_io_size) || within(a, width, g_board.pci_mem_base, g_board.pci_mem_size))
			xsRangeError("mmio: address 0x%08lx is in a PCI window but in no BAR the PCI layer assigned and claimed", (unsigned long)a);
		xsRangeError("mmio: address 0x%08lx is outside the virtio-mmio windows, ECAM, the claimed PCI BARs and the MSI frame", (unsigned long)a);
	}
	if (a + width > g_board.ram_base && a < ram_end) xsRangeError("mmio: address 0x%08lx is RAM, not a device register", (unsigned long)a);
	return a;
}

/* start.S: the accesses, and the flag its data-abort handler sets when one faults. */
extern uint32_t mmio_read8(uint32_t a), mmio_read16(uint32_t a), mmio_read32(uint32_t a);
extern void mmio_write8(uint32_t a, uint32_t v), mmio_write16(uint32_t a, uint32_t v), mmio_write32(uint32_t a, uint32_t v);
extern volatile uint32_t mmio_fault;

static void mmio_check(xsMachine* the, uint32_t a, const char* op) {
	if (mmio_fault) {
		mmio_fault = 0;
		xsUnknownError("mmio: bus error on %s at 0x%08lx (no device register there)", op, (unsigned long)a);
	}
}

static void xs_mmio_read8(xsMachine* the) { uint32_t a = mmio_addr(the, 1); uint32_t v = mmio_read8(a); mmio_check(the, a, "read8"); xsResult = xsInteger(v); }
static void xs_mmio_read16(xsMachine* the) { uint32_t a = mmio_addr(the, 2); uint32_t v = mmio_read16(a); mmio_check(the, a, "read16"); xsResult = xsInteger(v); }
static void xs_mmio_read32(xsMachine* the) { uint32_t a = mmio_addr(the, 4); uint32_t v = mmio_read32(a); mmio_check(the, a, "read32"); xsResult = xsNumber((double)v); }
/* Writes; one into a BAR register in ECAM closes that function's claimed BARs (pci_bars.c). */
static void xs_mmio_write8(xsMachine* the) { uint32_t a = mmio_addr(the, 1); mmio_write8(a, arg_value(the, 1, 1) & 0xFF); mmio_check(the, a, "write8"); pci_bars_config_written(a, 1); }
static void xs_mmio_write16(xsMachine* the) { uint32_t a = mmio_addr(the, 2); mmio_write16(a, arg_value(the, 1, 2) & 0xFFFF); mmio_check(the, a, "write16"); pci_bars_config_written(a, 2); }
static void xs_mmio_write32(xsMachine* the) { uint32_t a = mmio_addr(the, 4); mmio_write32(a, arg_value(the, 1, 4)); mmio_check(the, a, "write32"); pci_bars_config_written(a, 4); }

/* Barriers (cpu.h; on ARM, ARM ARM A3.8.3): full and write barriers as DSB so that they
 * also order the device-memory notify write; the read barrier as DMB. */
static void xs_mb(xsMachine* the) { (void)the; dsb(); }
static void xs_wmb(xsMachine* the) { (void)the; dsb_st(); }
static void xs_rmb(xsMachine* the) { (void)the; dmb(); }

/* A host object whose buffer is [ptr, ptr+len): Uint8Array/DataView view it in place. */
static void host_buffer(xsMachine* the, void* ptr, uint32_t len) {
	xsResult = xsNewHostObject(NULL);
	xsSetHostBuffer(xsResult, ptr, len);
}

static void xs_dma_region(xsMachine* the) { host_buffer(the, __dma_start, (uint32_t)(__dma_end - __dma_start)); }
static void xs_dma_base(xsMachine* the) { xsResult = xsNumber((double)PTR_ADDR(__dma_start)); }
static void xs_dtb(xsMachine* the) { host_buffer(the, (void*)g_dtb, fdt_total_size(g_dtb)); }

static uint32_t irq_line(xsMachine* the) {
	uint32_t line = arg_u32(the, 0, "interrupt line");
	if (line >= IRQ_LINES || line == g_board.uart_intid || line == g_board.timer_intid)
		xsRangeError("interrupt line %lu is not available", (unsigned long)line);
	return line;
}
static void xs_irq_enable(xsMachine* the) { irq_user_enable(irq_line(the)); }
static void xs_irq_disable(xsMachine* the) { irq_user_disable(irq_line(the)); }
static void xs_irq_eoi(xsMachine* the) { irq_user_eoi(irq_line(the)); }

static void xs_now(xsMachine* the) { xsResult = xsNumber(timer_now_ms()); }
static void xs_timer_arm(xsMachine* the) { timer_arm_ms(xsToNumber(xsArg(0))); }

/* Text (UTF-8, "\n" sent as "\r\n") or raw bytes from an ArrayBuffer. */
static void xs_console_write(xsMachine* the) {
	if (xsIsInstanceOf(xsArg(0), xsArrayBufferPrototype)) {
		uint32_t len = (uint32_t)xsGetArrayBufferLength(xsArg(0));
		uart_write((const char*)xsToArrayBuffer(xsArg(0)), len);
	} else {
		uart_puts(xsToString(xsArg(0)));
	}
}

static void set_num(xsMachine* the, const char* name, double v) { xsSet(xsResult, xsID(name), xsNumber(v)); }

extern double loop_idle_ms; /* loop.c */

static void xs_engine_stats(xsMachine* the) {
	engine_stats_t s;
	glue_engine_stats(the, &s);
	xsResult = xsNewObject();
	set_num(the, "chunksUsed", s.chunks_current);
	set_num(the, "chunksPeak", s.chunks_peak);
	set_num(the, "chunksReserved", s.chunks_reserved);
	set_num(the, "slotsUsed", (double)s.slots_current * s.slot_size);
	set_num(the, "slotsPeak", (double)s.slots_peak * s.slot_size);
	set_num(the, "slotsReserved", (double)s.slots_reserved * s.slot_size);
	set_num(the, "slotSize", s.slot_size);
	set_num(the, "stackSlots", s.stack_slots);
	set_num(the, "stackUsed", s.stack_used);
	set_num(the, "keysUsed", s.keys_used);
	set_num(the, "keysReserved", s.keys_reserved);
	set_num(the, "engineAllocated", s.allocated);
	set_num(the, "engineLimit", s.allocation_limit);
	set_num(the, "cHeapUsed", heap_used());
	set_num(the, "cHeapLimit", heap_limit());
	set_num(the, "cStackPeak", cstack_peak());
	set_num(the, "bundleParseMs", glue_bundle_parse_ms);
	set_num(the, "bootMachineStartMs", boot_marks[0]);
	set_num(the, "bootBundleStartMs", boot_marks[1]);
	set_num(the, "cStackSize", (double)(uint32_t)(__stack_svc_top - __stack_svc_bottom));
	set_num(the, "idleMs", loop_idle_ms);
}

/* CRC-32 (IEEE 802.3, as zlib's crc32) of `len` bytes of the DMA pool at physical address
 * `phys`, continuing `crc` (start with 0): `blk read` checks what it read without walking
 * the bytes in JavaScript. Only the DMA pool can be read this way. */
static void xs_dma_crc32(xsMachine* the) {
	static uint32_t table[8][256]; /* slicing-by-8: table[k][n] is byte n seen k bytes early */
	uint32_t phys = arg_u32(the, 0, "crc32 address");
	uint32_t len = arg_u32(the, 1, "crc32 length");
	uint32_t c = ~arg_u32(the, 2, "crc32 value");
	uint32_t start = PTR_ADDR(__dma_start), end = PTR_ADDR(__dma_end);
	if (phys < start || phys > end || len > end - phys)
		xsRangeError("dma crc32: 0x%08lx+%lu is outside the DMA pool", (unsigned long)phys, (unsigned long)len);
	if (table[0][1] == 0) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t t = n;
			for (int k = 0; k < 8; k++) t = (t & 1) ? 0xEDB88320u ^ (t >> 1) : t >> 1;
			table[0][n] = t;
		}
		for (uint32_t n = 0; n < 256; n++)
			for (int k = 1; k < 8; k++) table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xFF];
	}
	const uint8_t* p = (const uint8_t*)ADDR_PTR(phys);
	uint32_t i = 0;
	for (; i < len && ((uintptr_t)(p + i) & 3); i++) c = table[0][(c ^ p[i]) & 0xFF] ^ (c >> 8);
	for (; i + 8 <= len; i += 8) {
		uint32_t lo = c ^ *(const uint32_t*)(p + i); /* little-endian words, 4-byte aligned */
		uint32_t hi = *(const uint32_t*)(p + i + 4);
		c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
		    table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^ table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
	}
	for (; i < len; i++) c = table[0][(c ^ p[i]) & 0xFF] ^ (c >> 8);
	xsResult = xsNumber((double)(uint32_t)~c);
}

static void xs_gc(xsMachine* the) { xsCollectGarbage(); }
static void xs_board_name(xsMachine* the) { xsResult = xsString(g_board_name); }
static void xs_power_off(xsMachine* the) { (void)the; power_off(); }

static void def(xsMachine* the, const char* name, xsCallback fn, int argc) {
	xsVar(0) = xsNewHostFunction(fn, argc);
	xsDefine(xsGlobal, xsID(name), xsVar(0), xsDontEnum);
}

void natives_install(xsMachine* the) {
	xsBeginHost(the);
	{
		xsVars(1);
		def(the, "__xsMmioRead8", xs_mmio_read8, 1);
		def(the, "__xsMmioRead16", xs_mmio_read16, 1);
		def(the, "__xsMmioRead32", xs_mmio_read32, 1);
		def(the, "__xsMmioWrite8", xs_mmio_write8, 2);
		def(the, "__xsMmioWrite16", xs_mmio_write16, 2);
		def(the, "__xsMmioWrite32", xs_mmio_write32, 2);
		def(the, "__xsMb", xs_mb, 0);
		def(the, "__xsWmb", xs_wmb, 0);
		def(the, "__xsRmb", xs_rmb, 0);
		def(the, "__xsDmaRegion", xs_dma_region, 0);
		def(the, "__xsDmaBase", xs_dma_base, 0);
		def(the, "__xsDtb", xs_dtb, 0);
		def(the, "__xsIrqEnable", xs_irq_enable, 1);
		def(the, "__xsIrqDisable", xs_irq_disable, 1);
		def(the, "__xsIrqEoi", xs_irq_eoi, 1);
		def(the, "__xsNow", xs_now, 0);
		def(the, "__xsTimerArm", xs_timer_arm, 1);
		def(the, "__xsConsoleWrite", xs_console_write, 1);
		def(the, "__xsEngineStats", xs_engine_stats, 0);
		def(the, "__xsDmaCrc32", xs_dma_crc32, 3);
		def(the, "__xsGc", xs_gc, 0);
		def(the, "__xsPowerOff", xs_power_off, 0);
		def(the, "__xsBoardName", xs_board_name, 0);
		page_pool_natives(the);
		pci_bars_natives(the);
	}
	xsEndHost(the);
}
