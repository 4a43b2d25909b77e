/* picolibc's hooks for bare metal (libc/heap.c does the work): sbrk over our heap limit,
 * stdout/stderr on the UART (tinystdio), gettimeofday for Date, _exit. Thread-local
 * storage (errno lives there) is the image's own .tdata/.tbss, set up by start.S. */
#include <stdio.h>
#include <sys/time.h>
#include "board.h"

void* sbrk(ptrdiff_t incr) { return heap_sbrk(incr); }

static int uart_stream_put(char c, FILE* f) {
	(void)f;
	if (c == '\n') uart_putc('\r');
	uart_putc(c);
	return (unsigned char)c;
}
static FILE uart_stream = FDEV_SETUP_STREAM(uart_stream_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE* const stdin = &uart_stream;
FILE* const stdout = &uart_stream;
FILE* const stderr = &uart_stream;

int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
	(void)tz;
	uint64_t us;
	heap_gettimeofday(&us);
	tv->tv_sec = (time_t)(us / 1000000u);
	tv->tv_usec = (suseconds_t)(us % 1000000u);
	return 0;
}

void _exit(int status) { uart_printf("FATAL: exit(%d)\n", status); power_off(); }
