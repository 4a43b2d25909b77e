/* Start-up code for RV64GC in supervisor mode on QEMU's riscv `virt` board, entered from
 * the OpenSBI firmware QEMU loads by default (fw_dynamic): a0 = hart id, a1 = the DTB's
 * address (QEMU puts it near the top of RAM; OpenSBI has edited it), MMU off (satp = 0),
 * interrupts off. We stay in S-mode with bare (physical) addressing: boards/
 * qemu-virt-riscv64/README.md says why. Then: global and thread pointers, the stack, the
 * FPU, the trap vector, .bss and .tbss cleared, C (board_main). */
	.section .text.boot, "ax"
	.global _start
_start:
	/* Before anything else: .data keeps the boot registers (.bss is cleared below). */
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	la	t0, boot_hartid
	sd	a0, 0(t0)
	la	t0, boot_dtb
	sd	a1, 0(t0)
	csrw	sie, zero
	csrw	sip, zero
	la	sp, __stack_svc_top
	/* Thread pointer: picolibc keeps errno in TLS; the block is the image's own .tdata +
	 * .tbss (link.ld), variant I (tp points at the block's first byte). */
	la	tp, __tls_base
	/* FPU: sstatus.FS = Initial (Privileged ISA 3.1.6.6) before any C that uses doubles. */
	li	t0, (3 << 13)
	csrc	sstatus, t0
	li	t0, (1 << 13)
	csrs	sstatus, t0
	fscsr	zero
	/* Traps: direct mode (stvec low bits 00), every cause through trap_entry. */
	la	t0, trap_entry
	csrw	stvec, t0
	/* Clear .tbss and .bss (contiguous in link.ld). */
	la	t0, __tbss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	/* board_main(dtb, boot hart): never returns */
	la	t0, boot_dtb
	ld	a0, 0(t0)
	la	t0, boot_hartid
	ld	a1, 0(t0)
	call	board_main
3:	wfi
	j	3b

	.data
	.align 3
	.global boot_hartid, boot_dtb
boot_hartid: .dword 0
boot_dtb: .dword 0

/* The trap frame (trap.c, struct trap_frame): x1-x31 at x[1..31] (x[2] = the interrupted
 * sp), sepc at x[0], f0-f31, fcsr. Interrupts and exceptions both come here, on the
 * interrupted code's stack (there is one: S-mode only, no user mode). */
	.equ FRAME, (32 + 32 + 2) * 8

	.text
	.align 4
	.global trap_entry
trap_entry:
	addi	sp, sp, -FRAME
	.irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd	x\n, \n*8(sp)
	.endr
	addi	t0, sp, FRAME
	sd	t0, 2*8(sp)
	csrr	t0, sepc
	sd	t0, 0(sp)
	/* The C handler may use the FPU: the caller-saved registers matter, all are kept
	 * (the fault report prints none of them, but one frame layout is simpler). */
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fsd	f\n, (32 + \n)*8(sp)
	.endr
	frcsr	t0
	sd	t0, 64*8(sp)
	mv	a0, sp
	call	trap_handle
	ld	t0, 64*8(sp)
	fscsr	t0
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fld	f\n, (32 + \n)*8(sp)
	.endr
	ld	t0, 0(sp)
	csrw	sepc, t0
	.irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	x\n, \n*8(sp)
	.endr
	addi	sp, sp, FRAME
	sret

/* Device register accesses with explicit widths. A load or store access fault on one of
 * these (a register that is not there: OpenSBI passes such faults on to S-mode) is
 * survivable: trap.c sees sepc in [mmio_access_start, mmio_access_end), sets mmio_fault,
 * returns 0 and resumes at the next instruction; hence 4-byte instructions only (norvc).
 * The fences give device accesses the order Linux's readl/writel give them: a read is
 * complete before later memory reads (fence i,r), earlier memory writes are visible
 * before a device write (fence w,o). */
	/* The address is a uint32_t, which the psABI passes sign-extended: make it zero-extended. */
	.macro ZEXT_ADDR
	slli	a0, a0, 32
	srli	a0, a0, 32
	.endm
	.option push
	.option norvc
	.align 2
	.global mmio_access_start, mmio_access_end
	.global mmio_read8, mmio_read16, mmio_read32, mmio_write8, mmio_write16, mmio_write32
mmio_access_start:
mmio_read8:
	ZEXT_ADDR
	lbu	a0, 0(a0)
	fence	i, r
	ret
mmio_read16:
	ZEXT_ADDR
	lhu	a0, 0(a0)
	fence	i, r
	ret
mmio_read32:
	ZEXT_ADDR
	lw	a0, 0(a0)		/* a uint32_t result is returned sign-extended (psABI) */
	fence	i, r
	ret
mmio_write8:
	ZEXT_ADDR
	fence	w, o
	sb	a1, 0(a0)
	ret
mmio_write16:
	ZEXT_ADDR
	fence	w, o
	sh	a1, 0(a0)
	ret
mmio_write32:
	ZEXT_ADDR
	fence	w, o
	sw	a1, 0(a0)
	ret
mmio_access_end:
	.option pop

	.data
	.align 2
	.global mmio_fault
mmio_fault:
	.word 0

	.text
/* Sleep until an interrupt enabled in sie is pending (WFI wakes even with sstatus.SIE
 * clear: Privileged ISA 3.3.3), which is how the loop sleeps without losing a wake-up. */
	.global cpu_wfi
cpu_wfi:
	fence	iorw, iorw
	wfi
	ret
