/* GICv2 (ARM IHI 0048B): distributor and CPU interface. QEMU's `virt` GIC has no
 * security extensions, so everything is group 0 and the CPU runs non-secure SVC. */
#include "board.h"

#define GICD_CTLR 0x000u
#define GICD_TYPER 0x004u
#define GICD_ISENABLER 0x100u
#define GICD_ICENABLER 0x180u
#define GICD_ICPENDR 0x280u
#define GICD_IPRIORITYR 0x400u
#define GICD_ITARGETSR 0x800u
#define GICD_ICFGR 0xC00u
#define GICC_CTLR 0x000u
#define GICC_PMR 0x004u
#define GICC_BPR 0x008u
#define GICC_IAR 0x00Cu
#define GICC_EOIR 0x010u

static uint32_t gicd, gicc, lines;

void intc_init(void) {
	gicd = g_board.gicd_base;
	gicc = g_board.gicc_base;
	wr32(gicd + GICD_CTLR, 0);
	lines = 32u * ((rd32(gicd + GICD_TYPER) & 0x1Fu) + 1u);
	if (lines > IRQ_LINES) lines = IRQ_LINES;
	for (uint32_t i = 0; i < lines; i += 32) {
		wr32(gicd + GICD_ICENABLER + i / 8, 0xFFFFFFFFu);
		wr32(gicd + GICD_ICPENDR + i / 8, 0xFFFFFFFFu);
	}
	for (uint32_t i = 0; i < lines; i++) wr8(gicd + GICD_IPRIORITYR + i, 0xA0);
	for (uint32_t i = 32; i < lines; i++) wr8(gicd + GICD_ITARGETSR + i, 0x01); /* SPIs to CPU 0 */
	wr32(gicd + GICD_CTLR, 1);
	wr32(gicc + GICC_PMR, 0xF0);
	wr32(gicc + GICC_BPR, 0);
	wr32(gicc + GICC_CTLR, 1);
}

void intc_enable(uint32_t intid) { if (intid < lines) wr32(gicd + GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32)); }
void intc_disable(uint32_t intid) {
	if (intid < lines) wr32(gicd + GICD_ICENABLER + 4 * (intid / 32), 1u << (intid % 32));
	dsb();
}
void intc_set_edge(uint32_t intid, int edge) {
	if (intid < 32 || intid >= lines) return; /* SGI/PPI configuration is fixed here */
	uint32_t a = gicd + GICD_ICFGR + 4 * (intid / 16), bit = 2u * (intid % 16) + 1u;
	uint32_t v = rd32(a);
	wr32(a, edge ? (v | (1u << bit)) : (v & ~(1u << bit)));
}
uint32_t intc_ack(void) { return rd32(gicc + GICC_IAR); }
void intc_eoi(uint32_t iar) { wr32(gicc + GICC_EOIR, iar); }
