/*
 * netflood: the flood sender of the Linux peer in tests/qemu/net-floods.test.mjs (busybox
 * has no hping3). A static armhf program with no C library: raw EABI system calls, built
 * with the project's arm-none-eabi-gcc (-nostdlib), run from the test's initramfs.
 *
 *   netflood syn DST PORT COUNT PPS   TCP SYNs to DST:PORT from spoofed sources
 *   netflood frag DST COUNT PPS       IPv4 fragments (UDP) that never complete
 *
 * Sources are spoofed in 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737 test nets, off the
 * segment: what the target answers goes to its gateway, Linux, which does not forward and
 * drops it, as a flood's answers go nowhere). Source ports, ISNs, datagram IDs and
 * fragment offsets are random (xorshift32). PPS packets a second (in 10 ms batches); 0:
 * as fast as the raw socket takes them. Sent with an IPPROTO_RAW socket (IP_HDRINCL: we
 * write the IPv4 header; the kernel fills in its checksum). Prints one line:
 *   NETFLOOD kind=syn|frag sent=N errors=E us=T
 */
#include "../../../tools/lib/peers/linux-nolibc.h"

typedef unsigned short u16;
typedef unsigned char u8;

#define SYS_nanosleep 162
#define SYS_socket 281
#define SYS_sendto 290
#define AF_INET 2
#define SOCK_RAW 3
#define IPPROTO_RAW 255

static void die(const char *why) { out("NETFLOOD error="); out(why); out("\n"); sys(SYS_exit, 1, 0, 0, 0, 0, 0); }

/* a.b.c.d, in network order as the wire has it (first byte first) */
static u32 ipv4(const char *s) {
	u32 v = 0;
	for (int k = 0; k < 4; k++) {
		v = (v << 8) | num(s);
		while (*s >= '0' && *s <= '9') s++;
		if (*s == '.') s++;
	}
	return v;
}

static u32 seed = 2463534242u;
static u32 rnd(void) { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return seed; }

struct timespec { long sec; long nsec; };

static void put16(u8 *p, u32 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static void put32(u8 *p, u32 v) { put16(p, v >> 16); put16(p + 2, v); }

static u32 sum16(const u8 *p, int n, u32 s) {
	for (int i = 0; i + 1 < n; i += 2) s += (u32)(p[i] << 8 | p[i + 1]);
	if (n & 1) s += (u32)p[n - 1] << 8;
	return s;
}
static u32 fold(u32 s) { while (s >> 16) s = (s & 0xffff) + (s >> 16); return ~s & 0xffff; }

static u32 spoofed(void) {
	u32 net = (rnd() & 1) ? 0xc6336400u /* 198.51.100.0 */ : 0xcb007100u /* 203.0.113.0 */;
	return net | (1 + rnd() % 254);
}

/* IPv4 header without options; the kernel fills in the checksum (IP_HDRINCL) */
static void ip_header(u8 *p, u32 total, u32 id, u32 frag, u32 proto, u32 src, u32 dst) {
	p[0] = 0x45; p[1] = 0;
	put16(p + 2, total);
	put16(p + 4, id);
	put16(p + 6, frag);
	p[8] = 64; p[9] = (u8)proto;
	put16(p + 10, 0);
	put32(p + 12, src);
	put32(p + 16, dst);
}

static u32 syn_packet(u8 *p, u32 dst, u32 port) {
	u32 src = spoofed();
	ip_header(p, 44, rnd() & 0xffff, 0x4000 /* DF */, 6, src, dst);
	u8 *t = p + 20;
	put16(t, 1024 + rnd() % 60000);
	put16(t + 2, port);
	put32(t + 4, rnd());
	put32(t + 8, 0);
	t[12] = 6 << 4; t[13] = 0x02; /* SYN */
	put16(t + 14, 29200);
	put16(t + 16, 0); put16(t + 18, 0);
	t[20] = 2; t[21] = 4; put16(t + 22, 1460); /* MSS */
	u32 s = sum16(p + 12, 8, 0) + 6 + 24;
	put16(t + 16, fold(sum16(t, 24, s)));
	return 44;
}

/* a fragment of a UDP datagram that never completes: MF set, at a random 8-byte offset,
 * never the last one */
static u32 frag_packet(u8 *p, u32 dst) {
	u32 n = 1024;
	u32 offset = (rnd() % 1024) & ~7u; /* in 8-byte units: up to 8 KiB into the datagram */
	ip_header(p, 20 + n, rnd() & 0xffff, 0x2000 /* MF */ | offset, 17, spoofed(), dst);
	for (u32 i = 0; i < n; i++) p[20 + i] = (u8)rnd();
	return 20 + n;
}

int main(int argc, char **argv) {
	if (argc < 5) die("usage");
	int syn = eq(argv[1], "syn");
	if (!syn && !eq(argv[1], "frag")) die("kind");
	u32 dst = ipv4(argv[2]);
	u32 port = syn ? num(argv[3]) : 0;
	u32 count = num(argv[syn ? 4 : 3]);
	u32 pps = argc > (syn ? 5 : 4) ? num(argv[syn ? 5 : 4]) : 0;
	long fd = sys(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_RAW, 0, 0, 0);
	if (fd < 0) die("socket");
	u8 to[16];
	memset(to, 0, sizeof to);
	to[0] = AF_INET; /* sin_family (little-endian u16) */
	put32(to + 4, dst);
	static u8 packet[1500];
	u32 sent = 0, errors = 0;
	u32 batch = pps == 0 ? count : (pps / 100 > 0 ? pps / 100 : 1);
	s64 t0 = now_us();
	while (sent + errors < count) {
		for (u32 k = 0; k < batch && sent + errors < count; k++) {
			u32 len = syn ? syn_packet(packet, dst, port) : frag_packet(packet, dst);
			if (sys(SYS_sendto, fd, (long)packet, (long)len, 0, (long)to, 16) < 0) errors++;
			else sent++;
		}
		if (pps != 0) {
			struct timespec t = { 0, 10000000 };
			sys(SYS_nanosleep, (long)&t, 0, 0, 0, 0, 0);
		}
	}
	out("NETFLOOD kind="); out(syn ? "syn" : "frag");
	outn(" sent=", sent); outn(" errors=", errors); outn(" us=", now_us() - t0); out("\n");
	return 0;
}

__attribute__((naked, noreturn)) void _start(void) {
	__asm__ volatile(
		"ldr r0, [sp]\n"
		"add r1, sp, #4\n"
		"bl main\n"
		"mov r7, #1\n"
		"svc 0\n");
}
