/* The few newlib system calls a bare-metal program needs (libc/heap.c does the work):
 * memory (sbrk), output to the UART, time; the others (read, close, lseek, fstat, isatty,
 * getpid, kill) give the fixed answers of a program whose only file is the console. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "board.h"

void* _sbrk(ptrdiff_t incr) { return heap_sbrk(incr); }

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

int _gettimeofday(struct timeval* tv, void* tz) {
	(void)tz;
	uint64_t us;
	heap_gettimeofday(&us);
	tv->tv_sec = (time_t)(us / 1000000u);
	tv->tv_usec = (suseconds_t)(us % 1000000u);
	return 0;
}
