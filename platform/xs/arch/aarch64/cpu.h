/* ARMv8-A AArch64 CPU helpers for the common C (board.h includes this): IRQ masking at
 * the CPU (PSTATE.I through DAIFSet/DAIFClr), barriers (Arm ARM B2.3), the generic timer's
 * EL1 virtual timer registers (Arm ARM D11) and the GICv3 CPU interface (ICC_*_EL1, GIC
 * architecture spec IHI 0069 chapter 12) for dev/arm_timer.c and dev/gic.c. */
#ifndef CPU_H
#define CPU_H
#include <stdint.h>
static inline void irq_mask_cpu(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void irq_unmask_cpu(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void dsb_st(void) { __asm__ volatile("dsb st" ::: "memory"); }
static inline void dmb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

/* Generic timer: virtual counter and the EL1 virtual timer. */
static inline uint64_t cntvct_read(void) { uint64_t v; __asm__ volatile("isb\n mrs %0, cntvct_el0" : "=r"(v)); return v; }
static inline uint32_t cntfrq_read(void) { uint64_t v; __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v)); return (uint32_t)v; }
static inline void cntv_cval_write(uint64_t v) { __asm__ volatile("msr cntv_cval_el0, %0" ::"r"(v)); }
static inline void cntv_ctl_write(uint32_t v) { __asm__ volatile("msr cntv_ctl_el0, %0\n isb" ::"r"((uint64_t)v)); }

/* GICv3 CPU interface, group 1 (system-register names as S3_* so any assembler takes them). */
static inline void icc_sre_enable(void) {
	uint64_t v;
	__asm__ volatile("mrs %0, S3_0_C12_C12_5" : "=r"(v)); /* ICC_SRE_EL1 */
	__asm__ volatile("msr S3_0_C12_C12_5, %0\n isb" ::"r"(v | 1u));
}
static inline void icc_pmr_write(uint32_t v) { __asm__ volatile("msr S3_0_C4_C6_0, %0" ::"r"((uint64_t)v)); }   /* ICC_PMR_EL1 */
static inline void icc_bpr1_write(uint32_t v) { __asm__ volatile("msr S3_0_C12_C12_3, %0" ::"r"((uint64_t)v)); } /* ICC_BPR1_EL1 */
static inline void icc_igrpen1_write(uint32_t v) { __asm__ volatile("msr S3_0_C12_C12_7, %0\n isb" ::"r"((uint64_t)v)); } /* ICC_IGRPEN1_EL1 */
static inline uint32_t icc_iar1_read(void) { uint64_t v; __asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(v)); return (uint32_t)v; } /* ICC_IAR1_EL1 */
static inline void icc_eoir1_write(uint32_t v) { __asm__ volatile("msr S3_0_C12_C12_1, %0" ::"r"((uint64_t)v)); } /* ICC_EOIR1_EL1 */
#endif
