/* Every S-mode trap (start.S trap_entry saves the frame). Interrupts: the supervisor
 * external interrupt goes to the common irq_handle (PLIC claim, mask, complete, queue),
 * the supervisor timer interrupt to timer_irq. Exceptions: a load/store access fault in
 * the MMIO accessors becomes mmio_fault (a JavaScript error); anything else means a bug:
 * `FATAL:` with the registers, then power off. Privileged ISA 4.1.8 (scause codes). */
#include "board.h"

struct trap_frame {
	uint64_t x[32]; /* x[0] holds sepc */
	uint64_t f[32];
	uint64_t fcsr, pad;
};

#define CAUSE_INTERRUPT (1ull << 63)
#define IRQ_S_TIMER 5
#define IRQ_S_EXTERNAL 9
#define EXC_LOAD_ACCESS 5
#define EXC_STORE_ACCESS 7

extern uint8_t mmio_access_start[], mmio_access_end[];
extern volatile uint32_t mmio_fault;

static const char* const exception_names[] = {
	"instruction address misaligned", "instruction access fault", "illegal instruction", "breakpoint",
	"load address misaligned", "load access fault", "store address misaligned", "store access fault",
	"ecall from U-mode", "ecall from S-mode", "reserved (10)", "ecall from M-mode",
	"instruction page fault", "load page fault", "reserved (14)", "store page fault",
};

static const char* const reg_names[32] = {
	"sepc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
	"a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static void fault_report(struct trap_frame* tf, uint64_t cause, uint64_t tval) __attribute__((noreturn));
static void fault_report(struct trap_frame* tf, uint64_t cause, uint64_t tval) {
	const char* name = cause < sizeof(exception_names) / sizeof(exception_names[0]) ? exception_names[cause] : "unknown exception";
	uart_printf("\nFATAL: %s at pc=%016llx stval=%016llx scause=%llu\n", name, (unsigned long long)tf->x[0],
		(unsigned long long)tval, (unsigned long long)cause);
	for (int i = 1; i < 32; i += 4) {
		uart_printf("FATAL: ");
		for (int j = i; j < i + 4 && j < 32; j++) uart_printf("%-4s=%016llx ", reg_names[j], (unsigned long long)tf->x[j]);
		uart_printf("\n");
	}
	power_off();
}

void trap_handle(struct trap_frame* tf);
void trap_handle(struct trap_frame* tf) {
	uint64_t cause = csr_read(scause);
	if (cause & CAUSE_INTERRUPT) {
		uint64_t code = cause & ~CAUSE_INTERRUPT;
		if (code == IRQ_S_EXTERNAL) irq_handle();
		else if (code == IRQ_S_TIMER) timer_irq();
		else csr_clear(sie, 1ull << code); /* a source nobody serves (software): keep it quiet */
		return;
	}
	uint64_t tval = csr_read(stval);
	uint8_t* pc = (uint8_t*)(uintptr_t)tf->x[0];
	if ((cause == EXC_LOAD_ACCESS || cause == EXC_STORE_ACCESS) && pc >= mmio_access_start && pc < mmio_access_end) {
		mmio_fault = 1;
		tf->x[10] = 0;     /* a0: what the read returns */
		tf->x[0] += 4;     /* the accessors are 4-byte instructions (norvc) */
		return;
	}
	fault_report(tf, cause, tval);
}
