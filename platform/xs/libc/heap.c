/* What every C library's system calls share (libc/newlib.c, libc/picolibc.c): the heap
 * between the image and the limit main.c sets (sbrk), and wall-clock time for Date. */
#include <errno.h>
#include "board.h"

static uint8_t* brk_cur = __heap_start;
static uint32_t brk_limit;

void heap_set_limit(uint32_t end) { brk_limit = end; }
uint32_t heap_used(void) { return (uint32_t)(brk_cur - __heap_start); }
uint32_t heap_limit(void) { return brk_limit - PTR_ADDR(__heap_start); }

void* heap_sbrk(ptrdiff_t incr) {
	uint8_t* prev = brk_cur;
	if (incr < 0 || (uint32_t)incr > brk_limit - PTR_ADDR(brk_cur)) {
		errno = ENOMEM;
		return (void*)-1;
	}
	brk_cur += incr;
	return prev;
}

/* Wall-clock time for Date: the RTC (PL031 seconds or goldfish nanoseconds; QEMU starts it
 * at the host's time) read once, then the timer. Without an RTC, time since power-on. */
static uint64_t epoch_us_at_zero;
static int epoch_known;

void heap_gettimeofday(uint64_t* us) {
	if (!epoch_known) {
		epoch_known = 1;
		if (g_board.rtc_base) {
			uint64_t now_us = (uint64_t)(timer_now_ms() * 1000.0);
			uint64_t rtc_us;
			if (g_board.rtc_goldfish) {
				/* goldfish: TIME_LOW first (it latches TIME_HIGH), nanoseconds since 1970 */
				uint64_t lo = rd32(g_board.rtc_base), hi = rd32(g_board.rtc_base + 4u);
				rtc_us = ((hi << 32) | lo) / 1000u;
			} else {
				rtc_us = (uint64_t)rd32(g_board.rtc_base) * 1000000u; /* PL031 RTCDR: seconds */
			}
			epoch_us_at_zero = rtc_us > now_us ? rtc_us - now_us : 0;
		}
	}
	*us = epoch_us_at_zero + (uint64_t)(timer_now_ms() * 1000.0);
}
