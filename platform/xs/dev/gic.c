/* The Arm Generic Interrupt Controller, as the DTB names it: GICv2 (IHI 0048B: distributor
 * and a memory-mapped CPU interface) or GICv3 (IHI 0069: distributor with affinity routing,
 * one redistributor per CPU for SGIs and PPIs, the CPU interface as ICC_* system registers:
 * cpu.h). QEMU's `virt` GIC has no security extensions (GICD_CTLR.DS is 1): on v2 everything
 * is group 0; on v3 everything is group 1, acknowledged through ICC_IAR1. One CPU. */
#include "board.h"

#define GICD_CTLR 0x000u
#define GICD_TYPER 0x004u
#define GICD_IGROUPR 0x080u
#define GICD_ISENABLER 0x100u
#define GICD_ICENABLER 0x180u
#define GICD_ICPENDR 0x280u
#define GICD_IPRIORITYR 0x400u
#define GICD_ITARGETSR 0x800u
#define GICD_ICFGR 0xC00u
#define GICD_IROUTER 0x6000u /* v3: 64-bit per SPI */
#define GICC_CTLR 0x000u
#define GICC_PMR 0x004u
#define GICC_BPR 0x008u
#define GICC_IAR 0x00Cu
#define GICC_EOIR 0x010u
/* v3 redistributor: RD_base frame, then the SGI_base frame 64 KiB later. */
#define GICR_WAKER 0x0014u
#define GICR_SGI 0x10000u
#define GICR_IGROUPR0 (GICR_SGI + 0x080u)
#define GICR_ISENABLER0 (GICR_SGI + 0x100u)
#define GICR_ICENABLER0 (GICR_SGI + 0x180u)
#define GICR_ICPENDR0 (GICR_SGI + 0x280u)
#define GICR_IPRIORITYR (GICR_SGI + 0x400u)
#define GICD_CTLR_RWP (1u << 31)
#define GICR_CTLR_RWP (1u << 3)

#define PRIORITY 0xA0u

static uint32_t gicd, gicc, gicr, lines;
static int v3;

/* v3: writes to GICD_CTLR and the enables take effect when RWP reads 0 (IHI 0069 12.9.4). */
static void dist_wait(void) { if (v3) while (rd32(gicd + GICD_CTLR) & GICD_CTLR_RWP) {} }
static void redist_wait(void) { while (rd32(gicr) & GICR_CTLR_RWP) {} }

static void v3_init_redistributor(void) {
	/* Wake the redistributor of CPU 0 (the first frame: one CPU). */
	wr32(gicr + GICR_WAKER, rd32(gicr + GICR_WAKER) & ~(1u << 1));     /* ProcessorSleep = 0 */
	while (rd32(gicr + GICR_WAKER) & (1u << 2)) {}                     /* ChildrenAsleep */
	wr32(gicr + GICR_ICENABLER0, 0xFFFFFFFFu);
	wr32(gicr + GICR_ICPENDR0, 0xFFFFFFFFu);
	redist_wait();
	wr32(gicr + GICR_IGROUPR0, 0xFFFFFFFFu);                           /* SGIs, PPIs: group 1 */
	for (uint32_t i = 0; i < 32; i++) wr8(gicr + GICR_IPRIORITYR + i, PRIORITY);
	icc_sre_enable();
	icc_pmr_write(0xF0);
	icc_bpr1_write(0);
	icc_igrpen1_write(1);
}

void intc_init(void) {
	v3 = g_board.gic_version == 3;
	gicd = g_board.gicd_base;
	gicc = v3 ? 0 : g_board.gicc_base;
	gicr = v3 ? g_board.gicc_base : 0;
	wr32(gicd + GICD_CTLR, 0);
	dist_wait();
	lines = 32u * ((rd32(gicd + GICD_TYPER) & 0x1Fu) + 1u);
	if (lines > IRQ_LINES) lines = IRQ_LINES;
	for (uint32_t i = v3 ? 32 : 0; i < lines; i += 32) {
		wr32(gicd + GICD_ICENABLER + i / 8, 0xFFFFFFFFu);
		wr32(gicd + GICD_ICPENDR + i / 8, 0xFFFFFFFFu);
		if (v3) wr32(gicd + GICD_IGROUPR + i / 8, 0xFFFFFFFFu); /* group 1 */
	}
	dist_wait();
	for (uint32_t i = v3 ? 32 : 0; i < lines; i++) wr8(gicd + GICD_IPRIORITYR + i, PRIORITY);
	if (v3) {
		for (uint32_t i = 32; i < lines; i++) wr64(gicd + GICD_IROUTER + 8 * i, 0); /* affinity 0.0.0.0: CPU 0 */
		wr32(gicd + GICD_CTLR, 1u << 4);  /* ARE (affinity routing) first */
		dist_wait();
		wr32(gicd + GICD_CTLR, (1u << 4) | (1u << 1) | 1u); /* + EnableGrp1, EnableGrp0 */
		dist_wait();
		v3_init_redistributor();
	} else {
		for (uint32_t i = 32; i < lines; i++) wr8(gicd + GICD_ITARGETSR + i, 0x01); /* SPIs to CPU 0 */
		wr32(gicd + GICD_CTLR, 1);
		wr32(gicc + GICC_PMR, 0xF0);
		wr32(gicc + GICC_BPR, 0);
		wr32(gicc + GICC_CTLR, 1);
	}
}

/* SGIs and PPIs (INTID < 32) live in the v3 redistributor, SPIs in the distributor. */
void intc_enable(uint32_t intid) {
	if (intid >= lines) return;
	if (v3 && intid < 32) wr32(gicr + GICR_ISENABLER0, 1u << intid);
	else wr32(gicd + GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32));
}
void intc_disable(uint32_t intid) {
	if (intid >= lines) return;
	if (v3 && intid < 32) { wr32(gicr + GICR_ICENABLER0, 1u << intid); redist_wait(); }
	else { wr32(gicd + GICD_ICENABLER + 4 * (intid / 32), 1u << (intid % 32)); dist_wait(); }
	dsb();
}
void intc_set_edge(uint32_t intid, int edge) {
	if (intid < 32 || intid >= lines) return; /* SGI/PPI configuration is fixed here */
	uint32_t a = gicd + GICD_ICFGR + 4 * (intid / 16), bit = 2u * (intid % 16) + 1u;
	uint32_t v = rd32(a);
	wr32(a, edge ? (v | (1u << bit)) : (v & ~(1u << bit)));
}
uint32_t intc_ack(void) { return v3 ? icc_iar1_read() : rd32(gicc + GICC_IAR); }
void intc_eoi(uint32_t iar) {
	if (v3) icc_eoir1_write(iar);
	else wr32(gicc + GICC_EOIR, iar);
}
