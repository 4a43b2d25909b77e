/*
 * blkbench: scattered 4 KiB reads and writes on a Linux block device, for the Linux peer
 * of `npm run bench`. A static armhf program with no C library: raw EABI system calls,
 * built with the project's arm-none-eabi-gcc (-nostdlib), run from the bench initramfs.
 *
 *   blkbench read|write DEV COUNT DEPTH SEED
 *   blkbench seq DEV REQ_KIB DEPTH PASSES
 *
 * seq reads the whole device into ONE region as large as the device (mmap'd once),
 * PASSES times into the same region: preads of REQ_KIB, DEPTH of them in flight (AIO
 * beyond 1). Before each pass but the first (fresh zero pages) the first word of every
 * 4 KiB block is overwritten, after
 * it the CRC-32 of the region is printed (neither timed), one line per pass:
 *   BLKBENCH op=seq pass=.. bytes=.. req=.. depth=.. us=.. crc=xxxxxxxx
 *
 * Offsets: xorshift32 from SEED (as `blk bench` in the guest shell). O_DIRECT; depth 1 is
 * pread64/pwrite64, depth > 1 keeps DEPTH requests in flight with Linux AIO (io_submit).
 * Reads are checked: every 4 KiB block of the bench image starts with its index (u32 LE)
 * and the CRC-32 of its bytes 8..4095. Writes keep that format, then fsync (a flush).
 * Prints one line: BLKBENCH op=.. count=.. depth=.. us=.. checkus=.. bad=.. first=..
 * checkus: COUNT block checks timed on their own after the run (the same function on the
 * same buffers), for the bench to leave out of the figure as U-Boot's check is.
 */
#include "linux-nolibc.h"

#define SYS_open 5
#define SYS_fsync 118
#define SYS_llseek 140
#define SYS_pread64 180
#define SYS_pwrite64 181
#define SYS_io_setup 243
#define SYS_io_getevents 245
#define SYS_io_submit 246
#define SYS_mmap2 192
#define O_RDWR 2
#define O_DIRECT 0200000 /* arm */
#define BLOCK 4096
#define MAX_DEPTH 64

static void die(const char *why, long err) { out("BLKBENCH error="); out(why); outn(" errno=", -err); out("\n"); sys(SYS_exit, 1, 0, 0, 0, 0, 0); }

static u32 crc_table[256];
static u32 crc_slice[8][256]; /* slicing-by-8, for the untimed CRC of the whole region */
static void crc_init(void) {
	for (u32 n = 0; n < 256; n++) {
		u32 c = n;
		for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
		crc_slice[0][n] = c;
	}
	for (u32 n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++) crc_slice[k][n] = (crc_slice[k - 1][n] >> 8) ^ crc_slice[0][crc_slice[k - 1][n] & 0xff];
}
static u32 crc32(const unsigned char *p, u32 n) {
	u32 c = 0xffffffffu;
	while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}
static u32 crc32_fast(const unsigned char *p, u32 n) { /* p 4-byte aligned, n a multiple of 8 */
	u32 c = 0xffffffffu;
	const u32 *w = (const u32 *)p;
	for (u32 i = 0; i < n / 8; i++) {
		u32 a = w[2 * i] ^ c, b = w[2 * i + 1];
		c = crc_slice[7][a & 0xff] ^ crc_slice[6][(a >> 8) & 0xff] ^ crc_slice[5][(a >> 16) & 0xff] ^ crc_slice[4][a >> 24] ^
		    crc_slice[3][b & 0xff] ^ crc_slice[2][(b >> 8) & 0xff] ^ crc_slice[1][(b >> 16) & 0xff] ^ crc_slice[0][b >> 24];
	}
	return ~c;
}
static void outhex(const char *key, u32 v) {
	char b[9]; const char *d = "0123456789abcdef";
	for (int i = 7; i >= 0; i--) { b[i] = d[v & 15]; v >>= 4; }
	b[8] = 0; out(key); out(b);
}

static u32 xs;
static u32 next(void) { xs ^= xs << 13; xs ^= xs >> 17; xs ^= xs << 5; return xs; }

struct iocb { /* linux/aio_abi.h, little-endian 32-bit */
	u64 data; u32 key, rw_flags; unsigned short opcode; short prio; u32 fd;
	u64 buf, nbytes; s64 offset; u64 reserved2; u32 flags, resfd;
};
struct io_event { u64 data, obj; s64 res, res2; };

static unsigned char bufs[MAX_DEPTH][BLOCK] __attribute__((aligned(BLOCK)));
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

static u64 device_size(long fd) {
	u64 size = 0;
	long r = sys(SYS_llseek, fd, 0, 0, (long)&size, 2 /* SEEK_END */, 0);
	if (r < 0) die("llseek", r);
	return size;
}

/* The whole device into one mmap'd region, PASSES times (see the header). */
static int seq(char **argv) {
	u32 req = num(argv[3]) * 1024, depth = num(argv[4]), passes = num(argv[5]);
	if (req < BLOCK || req % BLOCK || depth < 1 || depth > MAX_DEPTH || passes < 1) die("bad-arguments", 0);
	crc_init();
	long fd = sys(SYS_open, (long)argv[2], O_RDWR | O_DIRECT, 0, 0, 0, 0);
	if (fd < 0) die("open", fd);
	u64 size = device_size(fd);
	if (size == 0 || size % BLOCK || size > 0x40000000u) die("device-size", 0);
	long region = sys(SYS_mmap2, 0, (long)size, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
	if (region < 0 && region > -4096) die("mmap2", region);
	unsigned char *mem = (unsigned char *)region;
	u32 chunks = (u32)((size + req - 1) / req);
	unsigned long ctx = 0;
	if (depth > 1) {
		long r = sys(SYS_io_setup, (long)depth, (long)&ctx, 0, 0, 0, 0);
		if (r < 0) die("io_setup", r);
	}
	for (u32 pass = 0; pass < passes; pass++) {
		if (pass > 0) /* the first pass reads into fresh (zero) pages, as every peer's */
			for (u64 off = 0; off < size; off += BLOCK) *(volatile u32 *)(mem + off) = 0xffffffffu;
		u64 t = now_us();
		if (depth == 1) {
			for (u64 off = 0; off < size; off += req) {
				u32 len = size - off < req ? (u32)(size - off) : req;
				long n = sys(SYS_pread64, fd, (long)(mem + off), (long)len, 0, (long)(u32)off, (long)(u32)(off >> 32));
				if (n != (long)len) die("pread64", n);
			}
		} else {
			u32 issued = 0, done = 0;
			while (done < chunks) {
				u32 nsub = 0;
				while (issued < chunks && issued - done < depth) {
					u64 off = (u64)issued * req;
					struct iocb *cb = &cbs[issued % depth];
					memset(cb, 0, sizeof *cb);
					cb->data = issued; cb->opcode = 0; cb->fd = (u32)fd;
					cb->buf = (u32)(mem + off); cb->nbytes = size - off < req ? size - off : req; cb->offset = (s64)off;
					cbp[nsub++] = cb;
					issued++;
				}
				if (nsub) {
					long r = sys(SYS_io_submit, (long)ctx, (long)nsub, (long)cbp, 0, 0, 0);
					if (r != (long)nsub) die("io_submit", r);
				}
				long got = sys(SYS_io_getevents, (long)ctx, 1, (long)depth, (long)events, 0, 0);
				if (got < 1) die("io_getevents", got);
				for (long e = 0; e < got; e++) {
					u64 want = size - events[e].data * (u64)req < req ? size - events[e].data * (u64)req : req;
					if ((u64)events[e].res != want) die("aio-read", (long)events[e].res);
				}
				done += (u32)got;
			}
		}
		u64 us = now_us() - t;
		u32 crc = crc32_fast(mem, (u32)size);
		out("BLKBENCH op=seq"); outn(" pass=", pass); outn(" bytes=", (s64)size); outn(" req=", req); outn(" depth=", depth);
		outn(" us=", (s64)us); outhex(" crc=", crc); out("\n");
	}
	return 0;
}

int cmain(long *sp) {
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	if (argc != 6) { out("usage: blkbench read|write DEV COUNT DEPTH SEED | seq DEV REQ_KIB DEPTH PASSES\n"); return 2; }
	if (eq(argv[1], "seq")) return seq(argv);
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
	u64 checkus = 0;
	if (!write) {
		/* COUNT checks on their own, on the buffers as the run left them (see the header). */
		u32 keep_bad = bad, keep_first = first_bad;
		u64 c0 = now_us();
		for (u32 i = 0; i < count; i++) check((int)(i % depth));
		checkus = now_us() - c0;
		bad = keep_bad; first_bad = keep_first;
	}
	out(write ? "BLKBENCH op=write" : "BLKBENCH op=read");
	outn(" count=", count); outn(" depth=", depth); outn(" us=", (s64)us); outn(" checkus=", (s64)checkus);
	outn(" bad=", bad); outn(" first=", first_bad == 0xffffffffu ? -1 : (s64)first_bad); out("\n");
	return bad ? 1 : 0;
}

__attribute__((naked, noreturn)) void _start(void) {
	__asm__ volatile("mov r0, sp\n\tbl cmain\n\tmov r7, #1\n\tsvc 0");
}
