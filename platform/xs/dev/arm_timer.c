/* The Arm generic timer (Arm ARM B8 for ARMv7, D11 for ARMv8): the virtual counter CNTVCT as
 * the monotonic clock and the virtual timer compare CNTV_CVAL for wake-ups (PPI from the
 * DTB), through the register accessors of the board's cpu.h. The timer interrupt only
 * disables the compare; the loop sees the deadline has passed. */
#include "board.h"

static uint32_t freq;
static uint64_t boot_count;
static volatile uint64_t deadline_count;
static volatile int armed;

void timer_init(void) {
	freq = cntfrq_read();
	if (!freq) freq = 62500000;
	boot_count = 0;
	cntv_ctl_write(0);
	intc_enable(g_board.timer_intid);
}

uint32_t timer_freq(void) { return freq; }
uint64_t timer_count(void) { return cntvct_read() - boot_count; } /* boot_count 0: since QEMU started the CPU */
double timer_now_ms(void) { return (double)timer_count() * 1000.0 / (double)freq; }

void timer_arm_ms(double deadline) {
	irq_mask_cpu();
	if (deadline < 0 || deadline != deadline) {
		armed = 0;
		cntv_ctl_write(0);
	} else {
		double ticks = deadline * (double)freq / 1000.0;
		if (ticks > 1.8e19) ticks = 1.8e19;
		deadline_count = boot_count + (uint64_t)ticks;
		armed = 1;
		cntv_cval_write(deadline_count);
		cntv_ctl_write(1); /* ENABLE, not IMASK */
	}
	irq_unmask_cpu();
}

int timer_armed(void) { return armed; }
int timer_due(void) { return armed && cntvct_read() >= deadline_count; }

void timer_irq(void) { cntv_ctl_write(2); /* IMASK: the loop reads the deadline */ }
