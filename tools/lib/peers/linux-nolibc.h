/*
 * What a Linux peer program needs without a C library (static armhf, built by
 * buildPeerProgram in tools/lib/peers/linux.mjs with arm-none-eabi-gcc -nostdlib): the raw
 * EABI system call (number in r7, arguments in r0-r5, result in r0), the memset/memcpy gcc
 * may emit calls to, output to stdout, decimal parsing and the monotonic clock. Included
 * by linux-blkbench.c (the bench) and tests/qemu/lib/linux-netflood.c (net-floods).
 */
#ifndef LINUX_NOLIBC_H
#define LINUX_NOLIBC_H

typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define SYS_exit 1
#define SYS_write 4
#define SYS_clock_gettime 263

static long sys(long n, long a, long b, long c, long d, long e, long f) {
	register long r0 __asm__("r0") = a;
	register long r1 __asm__("r1") = b;
	register long r2 __asm__("r2") = c;
	register long r3 __asm__("r3") = d;
	register long r4 __asm__("r4") = e;
	register long r5 __asm__("r5") = f;
	register long r7 __asm__("r7") = n;
	__asm__ volatile("svc 0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7) : "memory");
	return r0;
}

void *memset(void *d, int c, unsigned long n) {
	unsigned char *p = d;
	while (n--) *p++ = (unsigned char)c;
	return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--) *p++ = *q++;
	return d;
}

static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
static void out(const char *s) { sys(SYS_write, 1, (long)s, (long)slen(s), 0, 0, 0); }
/* `key` then `v` in decimal */
static void outn(const char *key, s64 v) {
	char b[32]; int i = 31; int neg = v < 0; u64 x = neg ? (u64)-v : (u64)v;
	b[i] = 0;
	do { b[--i] = (char)('0' + (int)(x % 10)); x /= 10; } while (x);
	if (neg) b[--i] = '-';
	out(key); out(b + i);
}
static u32 num(const char *s) { u32 n = 0; while (*s >= '0' && *s <= '9') n = n * 10 + (u32)(*s++ - '0'); return n; }
static int eq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }

/* CLOCK_MONOTONIC in microseconds */
static u64 now_us(void) {
	struct { long s, ns; } t;
	sys(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&t, 0, 0, 0, 0);
	return (u64)t.s * 1000000u + (u64)(t.ns / 1000);
}

#endif
