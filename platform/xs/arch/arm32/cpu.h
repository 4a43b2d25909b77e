/* ARMv7-A (AArch32) CPU helpers for the common C (board.h includes this): IRQ masking at
 * the CPU, barriers (ARM ARM A3.8.3), the generic timer's virtual timer registers (ARM ARM
 * B8; dev/arm_timer.c) and the GICv3 CPU interface's AArch32 encodings (IHI 0069 chapter
 * 12; dev/gic.c uses them only if the DTB names a GICv3, which a Cortex-A15 never has). */
#ifndef CPU_H
#define CPU_H
#include <stdint.h>
static inline void irq_mask_cpu(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_unmask_cpu(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void dsb_st(void) { __asm__ volatile("dsb st" ::: "memory"); }
static inline void dmb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

/* Generic timer: CNTVCT, CNTFRQ, CNTV_CVAL, CNTV_CTL. */
static inline uint64_t cntvct_read(void) {
	uint32_t lo, hi;
	__asm__ volatile("isb\n mrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline uint32_t cntfrq_read(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); return v; }
static inline void cntv_cval_write(uint64_t v) {
	__asm__ volatile("mcrr p15, 3, %0, %1, c14" ::"r"((uint32_t)v), "r"((uint32_t)(v >> 32)));
}
static inline void cntv_ctl_write(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n isb" ::"r"(v)); }

/* GICv3 CPU interface, group 1 (ICC_SRE, ICC_PMR, ICC_BPR1, ICC_IGRPEN1, ICC_IAR1, ICC_EOIR1). */
static inline void icc_sre_enable(void) {
	uint32_t v;
	__asm__ volatile("mrc p15, 0, %0, c12, c12, 5" : "=r"(v));
	__asm__ volatile("mcr p15, 0, %0, c12, c12, 5\n isb" ::"r"(v | 1u));
}
static inline void icc_pmr_write(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c4, c6, 0" ::"r"(v)); }
static inline void icc_bpr1_write(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c12, c12, 3" ::"r"(v)); }
static inline void icc_igrpen1_write(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c12, c12, 7\n isb" ::"r"(v)); }
static inline uint32_t icc_iar1_read(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c12, c12, 0" : "=r"(v)); return v; }
static inline void icc_eoir1_write(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c12, c12, 1" ::"r"(v)); }
#endif
