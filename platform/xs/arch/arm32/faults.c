/* CPU exceptions that mean a bug: print `FATAL: ` with the registers, then power off. */
#include "board.h"

static const char* const kinds[] = { "undefined instruction", "prefetch abort", "data abort", "unexpected SVC", "unexpected FIQ" };

void fault_report(const uint32_t* regs, uint32_t spsr, uint32_t kind, uint32_t sp_svc) __attribute__((noreturn));
void fault_report(const uint32_t* regs, uint32_t spsr, uint32_t kind, uint32_t sp_svc) {
	uint32_t dfsr, dfar, ifsr, ifar;
	__asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(dfsr));
	__asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(dfar));
	__asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(ifsr));
	__asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(ifar));
	uart_printf("\nFATAL: %s at pc=%08lx cpsr=%08lx\n", kinds[kind < 5 ? kind : 0], (unsigned long)regs[13], (unsigned long)spsr);
	if (kind == 2) uart_printf("FATAL: DFSR=%08lx DFAR=%08lx\n", (unsigned long)dfsr, (unsigned long)dfar);
	if (kind == 1) uart_printf("FATAL: IFSR=%08lx IFAR=%08lx\n", (unsigned long)ifsr, (unsigned long)ifar);
	for (int i = 0; i < 13; i += 4) {
		uart_printf("FATAL: ");
		for (int j = i; j < i + 4 && j < 13; j++) uart_printf("r%-2d=%08lx ", j, (unsigned long)regs[j]);
		uart_printf("\n");
	}
	uart_printf("FATAL: sp_svc=%08lx\n", (unsigned long)sp_svc);
	power_off();
}
