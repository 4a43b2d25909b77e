/* RV64GC (S-mode) CPU helpers for the common C (board.h includes this): interrupt masking
 * at the hart (sstatus.SIE) and the barriers, named after their ARM counterparts so the
 * common code reads the same on every board. RISC-V fences (Unprivileged ISA, "FENCE"):
 * the I/O bits (i, o) order device accesses, the memory bits (r, w) ordinary memory. */
#ifndef CPU_H
#define CPU_H
#include <stdint.h>

#define SSTATUS_SIE (1ul << 1)

static inline void irq_mask_cpu(void) { __asm__ volatile("csrc sstatus, %0" ::"r"(SSTATUS_SIE) : "memory"); }
static inline void irq_unmask_cpu(void) { __asm__ volatile("csrs sstatus, %0" ::"r"(SSTATUS_SIE) : "memory"); }
/* dsb: everything before (memory and devices) before everything after. */
static inline void dsb(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }
/* dsb_st: stores to memory and devices before later device stores (the notify write). */
static inline void dsb_st(void) { __asm__ volatile("fence ow, ow" ::: "memory"); }
/* dmb: memory order between the hart and the interrupt handler's ring buffers. */
static inline void dmb(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }
/* isb: instruction fetch sees earlier stores (nothing here writes code; for symmetry). */
static inline void isb(void) { __asm__ volatile("fence.i" ::: "memory"); }

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint64_t)(v)) : "memory")

#endif
