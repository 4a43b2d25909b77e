/* The RISC-V timer: the `time` CSR (rdtime: the platform's mtime, counting since QEMU
 * started the machine at the DTB's /cpus timebase-frequency, 10 MHz on `virt`) is the
 * monotonic clock; the wake-up is the supervisor timer interrupt (sip.STIP), raised when
 * time >= stimecmp. With the Sstc extension (the DTB's riscv,isa lists it; OpenSBI enables
 * it for S-mode through menvcfg.STCE) the firmware writes stimecmp itself; without it,
 * through the SBI TIME extension (sbi_set_timer). The interrupt only pushes the compare
 * to "never"; the loop sees that the deadline has passed. */
#include "board.h"
#include "sbi.h"

#define SIE_STIE (1ull << 5)
#define NEVER UINT64_MAX

static uint32_t freq;
static volatile uint64_t deadline_count;
static volatile int armed;

static inline uint64_t read_time(void) {
	uint64_t t;
	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static void set_compare(uint64_t when) {
	if (g_board.has_sstc) csr_write(0x14D, when); /* stimecmp */
	else sbi_call(SBI_EXT_TIME, 0, when, 0, 0);
}

void timer_init(void) {
	freq = g_board.timebase_hz ? g_board.timebase_hz : 10000000u;
	set_compare(NEVER);
	csr_set(sie, SIE_STIE);
}

uint32_t timer_freq(void) { return freq; }
uint64_t timer_count(void) { return read_time(); }
double timer_now_ms(void) { return (double)read_time() * 1000.0 / (double)freq; }

void timer_arm_ms(double deadline) {
	irq_mask_cpu();
	if (deadline < 0 || deadline != deadline) {
		armed = 0;
		set_compare(NEVER);
	} else {
		double ticks = deadline * (double)freq / 1000.0;
		if (ticks > 1.8e19) ticks = 1.8e19;
		deadline_count = (uint64_t)ticks;
		armed = 1;
		set_compare(deadline_count);
	}
	irq_unmask_cpu();
}

int timer_armed(void) { return armed; }
int timer_due(void) { return armed && read_time() >= deadline_count; }

/* Interrupt context: STIP stays set while time >= stimecmp, so move the compare away. */
void timer_irq(void) { set_compare(NEVER); }
