/*
 * blkbench: scattered 4 KiB reads and writes on a Linux block device, for the Linux peer
 * of `npm run bench`. A static armhf program with no C library: raw EABI system calls,
 * built with the project's arm-none-eabi-gcc (-nostdlib), run from the bench initramfs.
 *
 *   blkbench read|write DEV COUNT DEPTH SEED
 *   blkbench seq DEV CHUNK_KIB 1 0      (the whole device, as dd bs=CHUNK iflag=direct)
 *
 * Offsets: xorshift32 from SEED (as `blk bench` in the guest shell). O_DIRECT; depth 1 is
 * pread64/pwrite64, depth > 1 keeps DEPTH requests in flight with Linux AIO (io_submit).
 * Reads are checked: every 4 KiB block of the bench image starts with its index (u32 LE)
 * and the CRC-32 of its bytes 8..4095. Writes keep that format, then fsync (a flush).
 * Prints one line: BLKBENCH op=.. count=.. depth=.. us=.. bad=.. first=..
 */
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define SYS_exit 1
#define SYS_write 4
#define SYS_open 5
#define SYS_fsync 118
#define SYS_llseek 140
#define SYS_pread64 180
#define SYS_pwrite64 181
#define SYS_io_setup 243
#define SYS_io_getevents 245
#define SYS_io_submit 246
#define SYS_clock_gettime 263
#define O_RDWR 2
#define O_DIRECT 0200000 /* arm */
#define BLOCK 4096
#define MAX_DEPTH 64

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
static void outn(const char *key, s64 v) {
	char b[32]; int i = 31; int neg = v < 0; u64 x = neg ? (u64)-v : (u64)v;
	b[i] = 0;
	do { b[--i] = (char)('0' + (int)(x % 10)); x /= 10; } while (x);
	if (neg) b[--i] = '-';
	out(key); out(b + i);
}
static void die(const char *why, long err) { out("BLKBENCH error="); out(why); outn(" errno=", -err); out("\n"); sys(SYS_exit, 1, 0, 0, 0, 0, 0); }
static u32 num(const char *s) { u32 n = 0; while (*s >= '0' && *s <= '9') n = n * 10 + (u32)(*s++ - '0'); return n; }
static int eq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }

static u32 crc_table[256];
static void crc_init(void) {
	for (u32 n = 0; n < 256; n++) {
		u32 c = n;
		for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}
static u32 crc32(const unsigned char *p, u32 n) {
	u32 c = 0xffffffffu;
	while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static u32 xs;
static u32 next(void) { xs ^= xs << 13; xs ^= xs >> 17; xs ^= xs << 5; return xs; }

static u64 now_us(void) {
	struct { long s, ns; } t;
	sys(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&t, 0, 0, 0, 0);
	return (u64)t.s * 1000000u + (u64)(t.ns / 1000);
}

struct iocb { /* linux/aio_abi.h, little-endian 32-bit */
	u64 data; u32 key, rw_flags; unsigned short opcode; short prio; u32 fd;
	u64 buf, nbytes; s64 offset; u64 reserved2; u32 flags, resfd;
};
struct io_event { u64 data, obj; s64 res, res2; };

static unsigned char bufs[MAX_DEPTH][BLOCK] __attribute__((aligned(BLOCK)));
#define SEQ_MAX (1024 * 1024)
static unsigned char seqbuf[SEQ_MAX] __attribute__((aligned(BLOCK)));
static struct iocb cbs[MAX_DEPTH];
static struct iocb *cbp[MAX_DEPTH];
static struct io_event events[MAX_DEPTH];
static u32 index_of[MAX_DEPTH];

static u32 bad, first_bad = 0xffffffffu;
static void check(int slot) {
	const unsigned char *b = bufs[slot];
	u32 idx = b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24;
	u32 crc = b[4] | b[5] << 8 | b[6] << 16 | (u32)b[7] << 24;
	if (idx != index_of[slot] || crc != crc32(b + 8, BLOCK - 8)) {
		bad++;
		if (first_bad == 0xffffffffu) first_bad = index_of[slot];
	}
}

static void put32(unsigned char *p, u32 v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24); }

int cmain(long *sp) {
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	if (argc != 6) { out("usage: blkbench read|write DEV COUNT DEPTH SEED | seq DEV CHUNK_KIB 1 0\n"); return 2; }
	if (eq(argv[1], "seq")) {
		u32 chunk = num(argv[3]) * 1024;
		if (chunk < BLOCK || chunk > SEQ_MAX) die("bad-chunk", 0);
		long sfd = sys(SYS_open, (long)argv[2], O_RDWR | O_DIRECT, 0, 0, 0, 0);
		if (sfd < 0) die("open", sfd);
		u64 total = 0, t = now_us();
		for (;;) {
			long n = sys(SYS_pread64, sfd, (long)seqbuf, (long)chunk, 0, (long)(u32)total, (long)(u32)(total >> 32));
			if (n < 0) die("pread64", n);
			if (n == 0) break;
			total += (u64)n;
		}
		u64 us = now_us() - t;
		out("BLKBENCH op=seq"); outn(" bytes=", (s64)total); outn(" us=", (s64)us); out("\n");
		return 0;
	}
	int write = eq(argv[1], "write");
	u32 count = num(argv[3]), depth = num(argv[4]), seed = num(argv[5]);
	if (depth < 1 || depth > MAX_DEPTH || count < 1) die("bad-arguments", 0);
	crc_init();
	long fd = sys(SYS_open, (long)argv[2], O_RDWR | O_DIRECT, 0, 0, 0, 0);
	if (fd < 0) die("open", fd);
	u32 hi = 0, lo = 0; /* size: _llseek(fd, 0, 0, &result, SEEK_END) */
	u64 size = 0;
	long r = sys(SYS_llseek, fd, 0, 0, (long)&size, 2, 0);
	if (r < 0) die("llseek", r);
	(void)hi; (void)lo;
	u32 blocks = (u32)(size / BLOCK);
	if (blocks == 0) die("empty-device", 0);
	if (write) {
		xs = seed ^ 0x9e3779b9u;
		for (u32 s = 0; s < depth; s++) {
			for (u32 i = 8; i < BLOCK; i += 4) put32(bufs[s] + i, next());
			put32(bufs[s] + 4, crc32(bufs[s] + 8, BLOCK - 8));
		}
	}
	xs = seed ? seed : 1;
	u64 t0 = now_us();
	if (depth == 1) {
		for (u32 i = 0; i < count; i++) {
			u32 idx = next() % blocks;
			u64 off = (u64)idx * BLOCK;
			index_of[0] = idx;
			if (write) put32(bufs[0], idx);
			long n = sys(write ? SYS_pwrite64 : SYS_pread64, fd, (long)bufs[0], BLOCK, 0, (long)(u32)off, (long)(u32)(off >> 32));
			if (n != BLOCK) die(write ? "pwrite64" : "pread64", n);
			if (!write) check(0);
		}
	} else {
		unsigned long ctx = 0;
		r = sys(SYS_io_setup, (long)depth, (long)&ctx, 0, 0, 0, 0);
		if (r < 0) die("io_setup", r);
		u32 issued = 0, done = 0, nsub = 0;
		for (u32 s = 0; s < depth && issued < count; s++, issued++) {
			u32 idx = next() % blocks;
			index_of[s] = idx;
			if (write) put32(bufs[s], idx);
			struct iocb *cb = &cbs[s];
			memset(cb, 0, sizeof *cb);
			cb->data = s; cb->opcode = write ? 1 : 0; cb->fd = (u32)fd;
			cb->buf = (u32)bufs[s]; cb->nbytes = BLOCK; cb->offset = (s64)idx * BLOCK;
			cbp[nsub++] = cb;
		}
		r = sys(SYS_io_submit, (long)ctx, (long)nsub, (long)cbp, 0, 0, 0);
		if (r != (long)nsub) die("io_submit", r);
		while (done < count) {
			long got = sys(SYS_io_getevents, (long)ctx, 1, (long)depth, (long)events, 0, 0);
			if (got < 1) die("io_getevents", got);
			nsub = 0;
			for (long e = 0; e < got; e++) {
				u32 s = (u32)events[e].data;
				if (events[e].res != BLOCK) die(write ? "aio-write" : "aio-read", (long)events[e].res);
				if (!write) check((int)s);
				done++;
				if (issued < count) {
					u32 idx = next() % blocks;
					index_of[s] = idx;
					if (write) put32(bufs[s], idx);
					cbs[s].offset = (s64)idx * BLOCK;
					cbp[nsub++] = &cbs[s];
					issued++;
				}
			}
			if (nsub) {
				r = sys(SYS_io_submit, (long)ctx, (long)nsub, (long)cbp, 0, 0, 0);
				if (r != (long)nsub) die("io_submit", r);
			}
		}
	}
	if (write) {
		r = sys(SYS_fsync, fd, 0, 0, 0, 0, 0);
		if (r < 0) die("fsync", r);
	}
	u64 us = now_us() - t0;
	out(write ? "BLKBENCH op=write" : "BLKBENCH op=read");
	outn(" count=", count); outn(" depth=", depth); outn(" us=", (s64)us);
	outn(" bad=", bad); outn(" first=", first_bad == 0xffffffffu ? -1 : (s64)first_bad); out("\n");
	return bad ? 1 : 0;
}

__attribute__((naked, noreturn)) void _start(void) {
	__asm__ volatile("mov r0, sp\n\tbl cmain\n\tmov r7, #1\n\tsvc 0");
}
