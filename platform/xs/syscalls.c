/* The few newlib system calls a bare-metal program needs: memory (sbrk over the heap
 * between the image and the end of RAM), output to the UART, and stubs for the rest. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "board.h"

static uint8_t* brk_cur = __heap_start;
static uint32_t brk_limit;

void heap_set_limit(uint32_t end) { brk_limit = end; }
uint32_t heap_used(void) { return (uint32_t)(brk_cur - __heap_start); }
uint32_t heap_limit(void) { return brk_limit - (uint32_t)__heap_start; }

void* _sbrk(ptrdiff_t incr) {
	uint8_t* prev = brk_cur;
	if (incr < 0 || (uint32_t)incr > brk_limit - (uint32_t)brk_cur) {
		errno = ENOMEM;
		return (void*)-1;
	}
	brk_cur += incr;
	return prev;
}

int _write(int fd, const char* buf, int len) {
	(void)fd;
	for (int i = 0; i < len; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) uart_putc('\r');
		uart_putc(buf[i]);
	}
	return len;
}

int _read(int fd, char* buf, int len) { (void)fd; (void)buf; (void)len; return 0; }
int _close(int fd) { (void)fd; return -1; }
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return 0; }
int _fstat(int fd, struct stat* st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd) { (void)fd; return 1; }
int _getpid(void) { return 1; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
void _exit(int status) { uart_printf("FATAL: exit(%d)\n", status); power_off(); }
/* Wall-clock time for Date: the PL031 RTC's seconds (RTCDR, offset 0; QEMU starts it at the
 * host's time) read once, then the generic timer. Without an RTC, time since power-on. */
static uint64_t epoch_us_at_zero;
static int epoch_known;

int _gettimeofday(struct timeval* tv, void* tz) {
	(void)tz;
	if (!epoch_known) {
		epoch_known = 1;
		if (g_board.rtc_base) {
			uint64_t now_us = (uint64_t)(timer_now_ms() * 1000.0);
			uint64_t rtc_us = (uint64_t)rd32(g_board.rtc_base) * 1000000u;
			epoch_us_at_zero = rtc_us > now_us ? rtc_us - now_us : 0;
		}
	}
	uint64_t us = epoch_us_at_zero + (uint64_t)(timer_now_ms() * 1000.0);
	tv->tv_sec = (time_t)(us / 1000000u);
	tv->tv_usec = (suseconds_t)(us % 1000000u);
	return 0;
}
