/* Interrupts taken in C, minimally: acknowledge at the interrupt controller, mask the line, end the
 * interrupt, and mark the line pending for the event loop, which calls the JavaScript
 * handler and then irq_user_eoi() to unmask. The UART and the timer are served here. */
#include "board.h"

static volatile uint32_t pending[IRQ_LINES / 32 + 1];   /* fired, waiting for the loop */
static uint32_t user_enabled[IRQ_LINES / 32 + 1];       /* enabled by JavaScript */
static uint32_t in_flight[IRQ_LINES / 32 + 1];          /* masked until eoi */
static volatile uint32_t any_pending;

void irq_handle(void) {
	for (;;) {
		uint32_t iar = intc_ack(), intid = iar & 0x3FFu;
		if (intid >= 1020) return; /* spurious: nothing (more) to serve */
		if (intid == g_board.uart_intid) uart_irq();
		else if (intid == g_board.timer_intid) timer_irq();
		else {
			intc_disable(intid);
			pending[intid / 32] |= 1u << (intid % 32);
			any_pending = 1;
		}
		intc_eoi(iar);
	}
}

int irq_any_pending(void) { return any_pending != 0; }

int irq_next_pending(void) {
	int found = -1;
	irq_mask_cpu();
	for (uint32_t w = 0; w < IRQ_LINES / 32 + 1; w++) {
		if (pending[w]) {
			uint32_t bit = __builtin_ctz(pending[w]);
			pending[w] &= ~(1u << bit);
			found = (int)(w * 32 + bit);
			in_flight[w] |= 1u << bit;
			break;
		}
	}
	if (found < 0) any_pending = 0;
	irq_unmask_cpu();
	return found;
}

static int line_ok(uint32_t intid) {
	return intid < IRQ_LINES && intid != g_board.uart_intid && intid != g_board.timer_intid;
}

int irq_user_enable(uint32_t intid) {
	if (!line_ok(intid)) return 0;
	user_enabled[intid / 32] |= 1u << (intid % 32);
	if (!(in_flight[intid / 32] & (1u << (intid % 32)))) intc_enable(intid);
	return 1;
}

int irq_user_disable(uint32_t intid) {
	if (!line_ok(intid)) return 0;
	user_enabled[intid / 32] &= ~(1u << (intid % 32));
	intc_disable(intid);
	return 1;
}

int irq_user_eoi(uint32_t intid) {
	if (!line_ok(intid)) return 0;
	in_flight[intid / 32] &= ~(1u << (intid % 32));
	if (user_enabled[intid / 32] & (1u << (intid % 32))) intc_enable(intid);
	return 1;
}
