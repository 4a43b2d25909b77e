/* The RISC-V PLIC (RISC-V Platform-Level Interrupt Controller Specification v1.0.0) as
 * the interrupt controller of the common C: sources 1..riscv,ndev, one target context
 * (hart 0's supervisor mode, found in the DTB's interrupts-extended, fdt_min.c).
 *
 * Masking a line uses its PRIORITY, not its enable bit: a source of priority 0 never
 * interrupts (spec §4) but stays pending, and a completion is ignored for a source that
 * is not ENABLED for the context (spec §9): irq_handle masks a line before it completes
 * the claim, so the enable bits stay set and only the priority switches between 0 and 1. */
#include "board.h"

#define PLIC_PRIORITY(id) (4u * (id))
#define PLIC_ENABLE(ctx, id) (0x2000u + 0x80u * (ctx) + 4u * ((id) / 32u))
#define PLIC_THRESHOLD(ctx) (0x200000u + 0x1000u * (ctx))
#define PLIC_CLAIM(ctx) (0x200004u + 0x1000u * (ctx))
#define PLIC_NO_LINE 1023u /* what intc_ack returns when nothing is pending (>= 1020) */

static uint32_t plic, ctx, sources;

void intc_init(void) {
	plic = g_board.intc_base;
	ctx = g_board.intc_context;
	sources = g_board.intc_lines < IRQ_LINES ? g_board.intc_lines : IRQ_LINES - 1;
	wr32(plic + PLIC_THRESHOLD(ctx), 7u); /* nothing gets through while we set up */
	for (uint32_t id = 1; id <= sources; id++) wr32(plic + PLIC_PRIORITY(id), 0);
	for (uint32_t w = 0; w <= sources / 32u; w++) wr32(plic + PLIC_ENABLE(ctx, w * 32u), 0xFFFFFFFFu & ~(w == 0 ? 1u : 0u));
	/* A claim left from before (none after reset, but cheap): complete it. */
	uint32_t id;
	while ((id = rd32(plic + PLIC_CLAIM(ctx))) != 0) wr32(plic + PLIC_CLAIM(ctx), id);
	wr32(plic + PLIC_THRESHOLD(ctx), 0);
	csr_set(sie, 1ull << 9); /* SEIE: supervisor external interrupts */
}

void intc_enable(uint32_t line) {
	if (line >= 1 && line <= sources) wr32(plic + PLIC_PRIORITY(line), 1);
}

void intc_disable(uint32_t line) {
	if (line >= 1 && line <= sources) wr32(plic + PLIC_PRIORITY(line), 0);
	dsb();
}

/* QEMU's PLIC gateways are level-sensitive for every source; nothing to configure. */
void intc_set_edge(uint32_t line, int edge) { (void)line; (void)edge; }

uint32_t intc_ack(void) {
	uint32_t id = rd32(plic + PLIC_CLAIM(ctx));
	return id == 0 ? PLIC_NO_LINE : id;
}

void intc_eoi(uint32_t ack) {
	if (ack >= 1 && ack <= sources) wr32(plic + PLIC_CLAIM(ctx), ack);
}
