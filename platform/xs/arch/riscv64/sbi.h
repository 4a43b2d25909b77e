/* Calls into the SBI firmware (OpenSBI) from S-mode: RISC-V SBI specification v1.0,
 * chapter 3 (binary encoding: a7 = extension ID, a6 = function ID, a0-a5 arguments;
 * a0 = error, a1 = value on return). */
#ifndef SBI_H
#define SBI_H
#include <stdint.h>

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45u /* "TIME" */
#define SBI_EXT_SRST 0x53525354u /* "SRST" */
#define SBI_EXT_LEGACY_SHUTDOWN 0x08

struct sbiret {
	long error;
	long value;
};

static inline struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0, unsigned long a1, unsigned long a2) {
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ (long)r0, (long)r1 };
}

/* Base extension, sbi_probe_extension (FID 3): non-zero if the extension is there. */
static inline int sbi_has(unsigned long ext) {
	struct sbiret r = sbi_call(SBI_EXT_BASE, 3, ext, 0, 0);
	return r.error == 0 && r.value != 0;
}
#endif
