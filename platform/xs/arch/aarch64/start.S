/* Start-up code for ARMv8-A AArch64 (Cortex-A53) on QEMU `virt`: exception vectors, the
 * stack, FP/SIMD on, .bss cleared, thread pointer (picolibc keeps errno in TLS), boot MMU,
 * then C (board_main). QEMU enters a -kernel ELF at its entry point at EL1 (EL2 with
 * `virtualization=on`: dropped to EL1 here) with the MMU off; x0-x3 carry nothing the
 * firmware needs (the DTB address is fixed: see link.ld). One stack (SP_EL1) runs C, XS and
 * the interrupt entry, as the SVC stack does on the 32-bit board. */
	.arch armv8-a

	.section .text.boot, "ax"
	.global _start
	.type _start, %function
_start:
	msr	daifset, #0xf
	mrs	x0, CurrentEL
	lsr	x0, x0, #2
	cmp	x0, #2
	b.ne	1f
	/* EL2: EL1 is AArch64 (HCR_EL2.RW), may use the counter and timer (CNTHCTL_EL2.EL1PCTEN,
	 * EL1PCEN), sees no virtual offset, may use the GICv3 system registers; then eret. */
	mov	x0, #(1 << 31)
	msr	hcr_el2, x0
	mrs	x0, cnthctl_el2
	orr	x0, x0, #3
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr
	mrs	x0, S3_4_C12_C9_5	/* ICC_SRE_EL2: SRE and Enable (EL1 may set its SRE) */
	orr	x0, x0, #0x1
	orr	x0, x0, #0x8
	msr	S3_4_C12_C9_5, x0
	mov	x0, #0x3c5		/* SPSR: EL1h, DAIF masked */
	msr	spsr_el2, x0
	adr	x0, 1f
	msr	elr_el2, x0
	isb
	eret
1:	ldr	x0, =__stack_svc_top
	mov	sp, x0
	ldr	x0, =_vectors
	msr	vbar_el1, x0
	/* FP/SIMD: CPACR_EL1.FPEN = 0b11 (no trap), before any C (GCC uses SIMD registers freely). */
	mov	x0, #(3 << 20)
	msr	cpacr_el1, x0
	isb
	/* Clear .bss (with .tbss: link.ld), 8-byte aligned. */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
2:	cmp	x0, x1
	b.hs	3f
	str	xzr, [x0], #8
	b	2b
3:	ldr	x0, =__tls_base
	bl	_set_tls		/* picolibc: TPIDR_EL0 for the image's own .tdata/.tbss */
	bl	mmu_boot		/* mmu.c: identity map on before C touches memory unaligned */
	ldr	x0, =__dtb_start	/* board_main(dtb, boot cpu 0): QEMU's fixed place (link.ld) */
	mov	x1, #0
	bl	board_main
4:	wfi
	b	4b
	.size _start, . - _start

/* Exception vectors (Arm ARM D1.10.2): 16 entries of 0x80 bytes, VBAR 2 KiB aligned. The
 * firmware runs at EL1 on SP_EL1, so only "current EL, SPx" entries are expected: IRQ goes
 * to irq_entry, a synchronous exception to sync_entry; anything else is a FATAL. */
	.macro VECTOR target, kind
	.balign 0x80
	mov	x9, #\kind
	b	\target
	.endm

	.section .vectors, "ax"
	.balign 0x800
	.global _vectors
_vectors:
	VECTOR	fatal_entry, 0	/* current EL, SP0: sync */
	VECTOR	fatal_entry, 1	/* IRQ */
	VECTOR	fatal_entry, 2	/* FIQ */
	VECTOR	fatal_entry, 3	/* SError */
	.balign 0x80
	b	sync_entry	/* current EL, SPx: sync */
	.balign 0x80
	b	irq_entry	/* IRQ */
	VECTOR	fatal_entry, 4	/* FIQ */
	VECTOR	fatal_entry, 5	/* SError */
	VECTOR	fatal_entry, 6	/* lower EL, AArch64 */
	VECTOR	fatal_entry, 6
	VECTOR	fatal_entry, 6
	VECTOR	fatal_entry, 6
	VECTOR	fatal_entry, 7	/* lower EL, AArch32 */
	VECTOR	fatal_entry, 7
	VECTOR	fatal_entry, 7
	VECTOR	fatal_entry, 7

	.text
/* x0-x17 to [sp, #0..143], the first part of both exception frames. */
	.macro SAVE_X0_X17
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	.endm

/* IRQ: the caller-saved registers (x0-x18, x29, x30), ELR/SPSR and the whole FP/SIMD file
 * (the upper halves of v8-v15 are caller-saved too) on the stack, irq_handle(), back. */
	.type irq_entry, %function
irq_entry:
	sub	sp, sp, #(24 * 8 + 32 * 16 + 16)
	SAVE_X0_X17
	stp	x18, x29, [sp, #144]
	mrs	x0, elr_el1
	mrs	x1, spsr_el1
	stp	x30, x0, [sp, #160]
	str	x1, [sp, #176]
	add	x0, sp, #192
	stp	q0, q1, [x0, #0]
	stp	q2, q3, [x0, #32]
	stp	q4, q5, [x0, #64]
	stp	q6, q7, [x0, #96]
	stp	q8, q9, [x0, #128]
	stp	q10, q11, [x0, #160]
	stp	q12, q13, [x0, #192]
	stp	q14, q15, [x0, #224]
	stp	q16, q17, [x0, #256]
	stp	q18, q19, [x0, #288]
	stp	q20, q21, [x0, #320]
	stp	q22, q23, [x0, #352]
	stp	q24, q25, [x0, #384]
	stp	q26, q27, [x0, #416]
	stp	q28, q29, [x0, #448]
	stp	q30, q31, [x0, #480]
	mrs	x1, fpcr
	mrs	x2, fpsr
	str	x1, [x0, #512]
	str	x2, [x0, #520]
	bl	irq_handle
	add	x0, sp, #192
	ldr	x1, [x0, #512]
	ldr	x2, [x0, #520]
	msr	fpcr, x1
	msr	fpsr, x2
	ldp	q0, q1, [x0, #0]
	ldp	q2, q3, [x0, #32]
	ldp	q4, q5, [x0, #64]
	ldp	q6, q7, [x0, #96]
	ldp	q8, q9, [x0, #128]
	ldp	q10, q11, [x0, #160]
	ldp	q12, q13, [x0, #192]
	ldp	q14, q15, [x0, #224]
	ldp	q16, q17, [x0, #256]
	ldp	q18, q19, [x0, #288]
	ldp	q20, q21, [x0, #320]
	ldp	q22, q23, [x0, #352]
	ldp	q24, q25, [x0, #384]
	ldp	q26, q27, [x0, #416]
	ldp	q28, q29, [x0, #448]
	ldp	q30, q31, [x0, #480]
	ldr	x1, [sp, #176]
	ldp	x30, x0, [sp, #160]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	add	sp, sp, #(24 * 8 + 32 * 16 + 16)
	eret
	.size irq_entry, . - irq_entry

/* Synchronous exception. A data abort (ESR_EL1.EC 0x25) on an instruction of the mmio_*
 * accessors below (a device register that is not there) is survivable: x0 = 0,
 * mmio_fault = 1, resume after the instruction (the accessors are leaf functions: x9, x10
 * are theirs to lose). Anything else is fatal. */
	.type sync_entry, %function
sync_entry:
	mrs	x9, esr_el1
	lsr	x9, x9, #26
	cmp	x9, #0x25
	b.ne	1f
	mrs	x9, elr_el1
	ldr	x10, =mmio_access_start
	cmp	x9, x10
	b.lo	1f
	ldr	x10, =mmio_access_end
	cmp	x9, x10
	b.hs	1f
	add	x9, x9, #4
	msr	elr_el1, x9
	ldr	x10, =mmio_fault
	mov	w9, #1
	str	w9, [x10]
	mov	x0, #0
	eret
1:	mov	x9, #8
	b	fatal_entry
	.size sync_entry, . - sync_entry

/* Fatal: x0-x30 and the stack pointer as they were to fault_report(regs, kind) (faults.c),
 * which prints them with ESR/ELR/FAR and powers off. x9 holds the kind (it is lost). */
	.type fatal_entry, %function
fatal_entry:
	sub	sp, sp, #(32 * 8)
	SAVE_X0_X17
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	add	x0, sp, #(32 * 8)
	stp	x30, x0, [sp, #240]
	mov	x0, sp
	mov	x1, x9
	bl	fault_report
2:	b	2b
	.size fatal_entry, . - fatal_entry

/* Device register accesses with explicit widths (see sync_entry). The address argument is
 * 32-bit (board.h): zero-extended first (AAPCS64 leaves the upper half undefined). */
	.macro MMIO name, insn
	.global \name
	.type \name, %function
\name:
	mov	w0, w0
	\insn
	ret
	.size \name, . - \name
	.endm

	.balign 4
mmio_access_start:
	MMIO mmio_read8, "ldrb w0, [x0]"
	MMIO mmio_read16, "ldrh w0, [x0]"
	MMIO mmio_read32, "ldr w0, [x0]"
	MMIO mmio_write8, "strb w1, [x0]"
	MMIO mmio_write16, "strh w1, [x0]"
	MMIO mmio_write32, "str w1, [x0]"
mmio_access_end:

	.data
	.balign 4
	.global mmio_fault
mmio_fault:
	.word 0
	.text

	.global cpu_wfi
	.type cpu_wfi, %function
cpu_wfi:
	dsb	sy
	wfi
	ret
	.size cpu_wfi, . - cpu_wfi

/* w0 = function id, w1-w3 = arguments, x0 returned (PSCI 1.0 §5.2, SMC calling convention). */
	.global psci_call
	.type psci_call, %function
psci_call:
	mov	w0, w0			/* a 32-bit id: QEMU compares all 64 bits of x0 */
	hvc	#0
	ret
	.size psci_call, . - psci_call

	.global psci_call_smc
	.type psci_call_smc, %function
psci_call_smc:
	mov	w0, w0
	smc	#0
	ret
	.size psci_call_smc, . - psci_call_smc
