/* ARMv7-A (AArch32) CPU helpers for the common C (board.h includes this): IRQ masking at
 * the CPU, barriers (ARM ARM A3.8.3). */
#ifndef CPU_H
#define CPU_H
static inline void irq_mask_cpu(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_unmask_cpu(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void dsb_st(void) { __asm__ volatile("dsb st" ::: "memory"); }
static inline void dmb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
#endif
