/* PSCI SYSTEM_OFF (Arm PSCI 1.0 §5.10, function id 0x84000008), by the conduit the DTB names
 * (psci_call: hvc, psci_call_smc: smc, both in the board's arch start.S). */
#include "board.h"

extern int psci_call(uint32_t fn, uint32_t a, uint32_t b, uint32_t c);
extern int psci_call_smc(uint32_t fn, uint32_t a, uint32_t b, uint32_t c);

void power_off(void) {
	uart_puts("");
	dsb();
	if (g_board.psci_smc) psci_call_smc(0x84000008u, 0, 0, 0);
	else psci_call(0x84000008u, 0, 0, 0);
	for (;;) { irq_mask_cpu(); cpu_wfi(); }
}
