/* CPU exceptions that mean a bug: print `FATAL: ` with the syndrome and registers, then
 * power off (start.S fatal_entry; the kind says which vector). */
#include "board.h"

static const char* const kinds[] = {
	"sync exception on SP0", "IRQ on SP0", "FIQ on SP0", "SError on SP0", "FIQ", "SError",
	"exception from a lower EL (AArch64)", "exception from a lower EL (AArch32)", "synchronous exception",
};

void fault_report(const uint64_t* regs, uint64_t kind) __attribute__((noreturn));
void fault_report(const uint64_t* regs, uint64_t kind) {
	uint64_t esr, elr, far, spsr;
	__asm__ volatile("mrs %0, esr_el1" : "=r"(esr));
	__asm__ volatile("mrs %0, elr_el1" : "=r"(elr));
	__asm__ volatile("mrs %0, far_el1" : "=r"(far));
	__asm__ volatile("mrs %0, spsr_el1" : "=r"(spsr));
	uint32_t ec = (uint32_t)(esr >> 26) & 0x3Fu;
	const char* what = kinds[kind < 9 ? kind : 8];
	if (kind == 8) what = ec == 0x25 ? "data abort" : ec == 0x21 ? "prefetch abort" : ec == 0x00 ? "undefined instruction" : ec == 0x15 ? "unexpected SVC" : what;
	uart_printf("\nFATAL: %s at pc=%016llx spsr=%08llx\n", what, (unsigned long long)elr, (unsigned long long)spsr);
	uart_printf("FATAL: ESR=%08llx (EC 0x%02lx) FAR=%016llx\n", (unsigned long long)esr, (unsigned long)ec, (unsigned long long)far);
	for (int i = 0; i < 31; i += 4) {
		uart_printf("FATAL: ");
		for (int j = i; j < i + 4 && j < 31; j++) uart_printf("x%-2d=%016llx ", j, (unsigned long long)regs[j]);
		uart_printf("\n");
	}
	uart_printf("FATAL: sp=%016llx\n", (unsigned long long)regs[31]);
	power_off();
}
