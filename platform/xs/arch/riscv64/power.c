/* Power off through the SBI System Reset extension (SBI v1.0 chapter 10: sbi_system_reset,
 * type 0 = shutdown, reason 0 = none); OpenSBI ends QEMU through the virt board's
 * sifive,test device, status 0. The legacy shutdown call (EID 0x08) for an older SBI. */
#include "board.h"
#include "sbi.h"

void power_off(void) {
	uart_puts("");
	dsb();
	sbi_call(SBI_EXT_SRST, 0, 0, 0, 0);
	sbi_call(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
	for (;;) { irq_mask_cpu(); cpu_wfi(); }
}
