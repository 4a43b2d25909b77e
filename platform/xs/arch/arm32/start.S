/* Start-up code for ARMv7-A (Cortex-A15) on QEMU `virt`: exception vectors, per-mode
 * stacks, FPU enable, .bss clearing, then C (board_main). QEMU enters in non-secure SVC
 * mode with the MMU off; r0-r2 carry nothing (the DTB address is fixed: see link.ld).
 * ARM-mode code called from Thumb C is marked `%function` so calls switch state. */
	.syntax unified
	.arch armv7ve
	.fpu neon-vfpv4
	.arm

	.equ MODE_IRQ, 0x12
	.equ MODE_SVC, 0x13
	.equ MODE_ABT, 0x17
	.equ MODE_UND, 0x1B

	.section .vectors, "ax"
	.align 5
	.global _vectors
_vectors:
	b	_start
	b	undef_entry
	b	svc_entry
	b	pabort_entry
	b	dabort_entry
	b	.
	b	irq_entry
	b	fiq_entry

	.section .text.boot, "ax"
	.global _start
	.type _start, %function
_start:
	cpsid	aif
	/* One stack per mode (ARM ARM B1.3): IRQ, abort and undefined each get their own. */
	cps	#MODE_IRQ
	ldr	sp, =__stack_irq_top
	cps	#MODE_ABT
	ldr	sp, =__stack_abt_top
	cps	#MODE_UND
	ldr	sp, =__stack_und_top
	cps	#MODE_SVC
	ldr	sp, =__stack_svc_top
	/* Vector base (VBAR) */
	ldr	r0, =_vectors
	mcr	p15, 0, r0, c12, c0, 0
	/* SCTLR: keep A (alignment check) off, V (high vectors) off */
	mrc	p15, 0, r0, c1, c0, 0
	bic	r0, r0, #(1 << 1)
	bic	r0, r0, #(1 << 13)
	mcr	p15, 0, r0, c1, c0, 0
	isb
	/* FPU/NEON: CPACR cp10/cp11 full access, then FPEXC.EN (before any C using doubles) */
	mrc	p15, 0, r0, c1, c0, 2
	orr	r0, r0, #(0xF << 20)
	mcr	p15, 0, r0, c1, c0, 2
	isb
	mov	r0, #(1 << 30)
	vmsr	fpexc, r0
	/* Clear .bss */
	ldr	r0, =__bss_start
	ldr	r1, =__bss_end
	mov	r2, #0
1:	cmp	r0, r1
	strlo	r2, [r0], #4
	blo	1b
	ldr	r0, =__dtb_start	/* board_main(dtb, boot cpu 0): QEMU's fixed place (link.ld) */
	mov	r1, #0
	bl	board_main
2:	wfi
	b	2b
	.size _start, . - _start

	.text
/* IRQ: taken in C minimally (irq_handle: acknowledge, mask, queue). The state is pushed
 * on the SVC stack (srs) so that the C code runs with the interrupted mode's stack; the
 * caller-saved VFP registers are saved too since C may use them. */
	.type irq_entry, %function
irq_entry:
	sub	lr, lr, #4
	srsdb	sp!, #MODE_SVC
	cps	#MODE_SVC
	push	{r0-r3, r12, lr}
	vpush	{d0-d7}
	vpush	{d16-d31}
	vmrs	r0, fpscr
	and	r1, sp, #7
	sub	sp, sp, r1
	push	{r0, r1}
	bl	irq_handle
	pop	{r0, r1}
	add	sp, sp, r1
	vmsr	fpscr, r0
	vpop	{d16-d31}
	vpop	{d0-d7}
	pop	{r0-r3, r12, lr}
	rfeia	sp!
	.size irq_entry, . - irq_entry

/* Faults: save r0-r12 and the return address on the mode's own stack, then report. */
	.macro FAULT name, adjust, kind
	.type \name, %function
\name:
	sub	lr, lr, #\adjust
	push	{r0-r12, lr}
	mov	r0, sp
	mrs	r1, spsr
	mov	r2, #\kind
	mrs	r4, cpsr		/* sp_svc: visit SVC mode (banked MRS needs EL2) */
	cps	#MODE_SVC
	mov	r3, sp
	msr	cpsr_c, r4
	bl	fault_report
3:	b	3b
	.size \name, . - \name
	.endm

	FAULT undef_entry, 4, 0
	FAULT pabort_entry, 4, 1
	FAULT dabort_fatal, 8, 2

/* Data abort: one that hits an access in the mmio_* functions below (a device register
 * that is not there) is survivable: skip the instruction, return 0 and set mmio_fault,
 * which the native turns into a JavaScript error. Any other is fatal. */
	.type dabort_entry, %function
dabort_entry:
	push	{r0, r1}
	sub	r0, lr, #8
	ldr	r1, =mmio_access_start
	cmp	r0, r1
	blo	1f
	ldr	r1, =mmio_access_end
	cmp	r0, r1
	bhs	1f
	ldr	r1, =mmio_fault
	mov	r0, #1
	str	r0, [r1]
	pop	{r0, r1}
	mov	r0, #0
	subs	pc, lr, #4		/* return to the instruction after the faulting one */
1:	pop	{r0, r1}
	b	dabort_fatal
	.size dabort_entry, . - dabort_entry

/* Device register accesses with explicit widths (ARM mode; see dabort_entry). */
	.macro MMIO name, insn
	.global \name
	.type \name, %function
\name:
	\insn
	bx	lr
	.size \name, . - \name
	.endm

	.align 2
mmio_access_start:
	MMIO mmio_read8, "ldrb r0, [r0]"
	MMIO mmio_read16, "ldrh r0, [r0]"
	MMIO mmio_read32, "ldr r0, [r0]"
	MMIO mmio_write8, "strb r1, [r0]"
	MMIO mmio_write16, "strh r1, [r0]"
	MMIO mmio_write32, "str r1, [r0]"
mmio_access_end:

	.data
	.global mmio_fault
mmio_fault:
	.word 0
	.text
	FAULT svc_entry, 0, 3
	FAULT fiq_entry, 4, 4

/* Barriers and the few instructions C cannot express portably. */
	.global cpu_wfi
	.type cpu_wfi, %function
cpu_wfi:
	dsb	sy
	wfi
	bx	lr
	.size cpu_wfi, . - cpu_wfi

	.global psci_call
	.type psci_call, %function
/* r0 = function id, r1-r3 = arguments, r0 returned (PSCI 1.0 §5.2, SMC calling convention). */
psci_call:
	hvc	#0
	bx	lr
	.size psci_call, . - psci_call

	.global psci_call_smc
	.type psci_call_smc, %function
psci_call_smc:
	smc	#0
	bx	lr
	.size psci_call_smc, . - psci_call_smc
