/* The ARMv7 generic timer (ARM ARM B8): the virtual counter CNTVCT as the monotonic
 * clock and the virtual timer compare CNTV_CVAL for wake-ups (PPI from the DTB). The
 * timer interrupt only disables the compare; the loop sees the deadline has passed. */
#include "board.h"

static uint32_t freq;
static uint64_t boot_count;
static volatile uint64_t deadline_count;
static volatile int armed;

static inline uint64_t read_cntvct(void) {
	uint32_t lo, hi;
	__asm__ volatile("isb\n mrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void write_cntv_cval(uint64_t v) {
	__asm__ volatile("mcrr p15, 3, %0, %1, c14" ::"r"((uint32_t)v), "r"((uint32_t)(v >> 32)));
}
static inline void write_cntv_ctl(uint32_t v) {
	__asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n isb" ::"r"(v));
}

void timer_init(void) {
	__asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(freq));
	if (!freq) freq = 62500000;
	boot_count = 0;
	write_cntv_ctl(0);
	intc_enable(g_board.timer_intid);
}

uint32_t timer_freq(void) { return freq; }
uint64_t timer_count(void) { return read_cntvct() - boot_count; } /* boot_count 0: since QEMU started the CPU */
double timer_now_ms(void) { return (double)timer_count() * 1000.0 / (double)freq; }

void timer_arm_ms(double deadline) {
	irq_mask_cpu();
	if (deadline < 0 || deadline != deadline) {
		armed = 0;
		write_cntv_ctl(0);
	} else {
		double ticks = deadline * (double)freq / 1000.0;
		if (ticks > 1.8e19) ticks = 1.8e19;
		deadline_count = boot_count + (uint64_t)ticks;
		armed = 1;
		write_cntv_cval(deadline_count);
		write_cntv_ctl(1); /* ENABLE, not IMASK */
	}
	irq_unmask_cpu();
}

int timer_armed(void) { return armed; }
int timer_due(void) { return armed && read_cntvct() >= deadline_count; }

void timer_irq(void) { write_cntv_ctl(2); /* IMASK: the loop reads the deadline */ }
