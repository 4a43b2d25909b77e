/* What the C side learns from the device tree at boot (fdt_min.c) and the layout the
 * linker gives (link.ld). Nothing in here is hard-coded: a missing node is a FATAL.
 * This is the interface between the common C (the .c files of platform/xs) and a board's halves:
 * the architecture (arch/<arch>/: start-up, cpu.h, MMU, timer, power, faults) and the
 * devices the board's board.json lists (dev/: interrupt controller, UART). Device and
 * RAM addresses are 32-bit on every board (all below 4 GiB); a pointer is made from one
 * with ADDR_PTR. */
#ifndef BOARD_H
#define BOARD_H
#include <stddef.h>
#include <stdint.h>
#include "cpu.h" /* arch/<arch>/cpu.h: barriers, IRQ masking, wfi */

#define ADDR_PTR(a) ((void*)(uintptr_t)(a))
#define PTR_ADDR(p) ((uint32_t)(uintptr_t)(p))

typedef struct {
	uint32_t ram_base, ram_size;     /* /memory reg */
	uint32_t uart_base, uart_intid;  /* arm,pl011 or ns16550a reg + interrupts (the controller's line) */
	uint32_t gicd_base, gicc_base;   /* arm,cortex-a15-gic reg[0], reg[1] (GICv3: gicc_base = redistributor) */
	int gic_version;                 /* 2 or 3 (arm,gic-v3); 0 on a PLIC board */
	/* A RISC-V PLIC (riscv,plic0): its registers, riscv,ndev sources, and the context of the
	 * boot hart's supervisor mode (from interrupts-extended). */
	uint32_t intc_base, intc_size, intc_lines, intc_context;
	uint32_t timer_intid;            /* arm,armv7/armv8-timer: virtual timer PPI (3rd entry); 0 on RISC-V */
	uint32_t timebase_hz;            /* RISC-V: the boot hart's timebase-frequency (the `time` CSR) */
	int has_sstc;                    /* RISC-V: riscv,isa lists Sstc (S-mode writes stimecmp itself) */
	int psci_smc;                    /* psci method: 1 = "smc", 0 = "hvc" */
	uint32_t rtc_base;               /* arm,pl031 or google,goldfish-rtc reg (0 if none): wall-clock time for Date */
	int rtc_goldfish;                /* 1: goldfish (64-bit nanoseconds), 0: PL031 (32-bit seconds) */
	uint32_t virtio_lo, virtio_hi;   /* span of the virtio,mmio windows' reg [lo, hi): the only
	                                    registers JavaScript may reach (natives.c); 0, 0 if none */
	int dma_coherent;                /* every virtio,mmio node is `dma-coherent`: the DMA pool may be
	                                    cacheable (arch mmu.c decides) */
	/* The PCIe host bridge (pci-host-ecam-generic, below 4 GiB: boot with highmem=off) and
	 * the GICv2m frame: JavaScript may also reach ECAM, the frame, and in the I/O and 32-bit
	 * memory windows the BARs it has claimed (pci_bars.c). 0 sizes when absent. */
	uint32_t ecam_base, ecam_size;
	uint32_t pci_io_base, pci_io_size;   /* CPU address of PCI I/O space */
	uint32_t pci_mem_base, pci_mem_size; /* 32-bit memory window (CPU addresses) */
	uint32_t pci_io_pci, pci_mem_pci;    /* the PCI addresses of those windows' first bytes */
	uint32_t v2m_base, v2m_size;         /* arm,gic-v2m-frame */
	char model[64];
} board_t;

extern board_t g_board;
extern const char* const g_board_name; /* the build's board (board.json name) */
/* The DTB board_main was given (start-up passes where QEMU put it). */
extern const uint8_t* g_dtb;
/* Entered from start-up with the DTB's address and the boot hart/CPU number (0 on ARM). */
void board_main(const uint8_t* dtb, uint32_t boot_cpu) __attribute__((noreturn));

/* Linker symbols (link.ld). */
extern uint8_t __dma_start[], __dma_end[], __heap_start[];
extern uint8_t __stack_svc_bottom[], __stack_svc_top[];
extern uint8_t __bundle_start[], __bundle_end[];
extern uint8_t __text_start[], __bss_end[];

/* Parses the blob at `dtb` into `out` (`boot_cpu`: the hart whose nodes count); returns NULL or a reason. */
const char* fdt_scan(const uint8_t* dtb, uint32_t boot_cpu, board_t* out);
/* Total size of a valid blob, 0 if the header is bad. */
uint32_t fdt_total_size(const uint8_t* dtb);

/* Console (uart.c: text, printf, the receive ring) */
void uart_init(uint32_t base);
void uart_putc(char c);
void uart_write(const char* data, uint32_t len);   /* raw bytes */
void uart_puts(const char* s);                     /* text: "\n" becomes "\r\n" */
void uart_irq(void);                               /* from irq_handle: drain the RX FIFO */
uint32_t uart_rx_read(uint8_t* buf, uint32_t max); /* from the loop */
int uart_rx_pending(void);
void uart_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/* ... over the board's UART hardware (dev/pl011.c, dev/ns16550.c) */
void uart_hw_init(uint32_t base);
void uart_hw_putc(uint8_t c);       /* waits for room */
int uart_hw_rx_ready(void);          /* a received byte waits */
uint8_t uart_hw_getc(void);          /* takes it */
void uart_hw_rx_irq(int on);         /* receive interrupt on / off */
void uart_hw_rx_ack(void);           /* clears the receive interrupt (called before a drain) */

/* Interrupt controller (the board's, e.g. dev/gic.c): lines are the controller's numbers
 * (GIC INTIDs), as the DTB gives them. */
void intc_init(void);                    /* from g_board */
void intc_enable(uint32_t intid);
void intc_disable(uint32_t intid);
void intc_set_edge(uint32_t intid, int edge);
uint32_t intc_ack(void);                 /* the line (+ controller bits) of the interrupt taken; a line >= 1020: none */
void intc_eoi(uint32_t ack);             /* with what intc_ack returned */

/* Interrupt queue (irq.c): lines fired, masked, waiting for the loop. */
void irq_handle(void);
int irq_next_pending(void);           /* -1 if none; clears the bit */
int irq_any_pending(void);
int irq_user_enable(uint32_t intid);  /* 0 on bad line */
int irq_user_disable(uint32_t intid);
int irq_user_eoi(uint32_t intid);
#define IRQ_LINES 1020u

/* The timer (arch/<arch>/timer.c): a monotonic counter and one compare deadline. */
void timer_init(void);
uint64_t timer_count(void);
uint32_t timer_freq(void);
double timer_now_ms(void);
void timer_arm_ms(double deadline);  /* < 0: no deadline */
int timer_due(void);                 /* deadline set and reached */
int timer_armed(void);
void timer_irq(void);

/* MMU (arch/<arch>/mmu.c) */
void mmu_init(uint32_t ram_base, uint32_t ram_size);

/* Power (arch/<arch>/power.c: PSCI on ARM) */
void power_off(void) __attribute__((noreturn));

/* CPU (arch/<arch>/start.S) */
void cpu_wfi(void);

/* MMIO with explicit widths (device memory, little-endian like the CPU). */
static inline uint32_t rd32(uint32_t a) { return *(volatile uint32_t*)ADDR_PTR(a); }
static inline void wr32(uint32_t a, uint32_t v) { *(volatile uint32_t*)ADDR_PTR(a) = v; }
static inline uint8_t rd8(uint32_t a) { return *(volatile uint8_t*)ADDR_PTR(a); }
static inline void wr8(uint32_t a, uint8_t v) { *(volatile uint8_t*)ADDR_PTR(a) = v; }
static inline uint64_t rd64(uint32_t a) { return *(volatile uint64_t*)ADDR_PTR(a); }
static inline void wr64(uint32_t a, uint64_t v) { *(volatile uint64_t*)ADDR_PTR(a) = v; }

/* The C library's system calls (libc/<libc>.c) over these (libc/heap.c). */
void* heap_sbrk(ptrdiff_t incr);   /* (void*)-1 with errno ENOMEM past the limit */
void heap_gettimeofday(uint64_t* us); /* wall-clock microseconds (RTC at first call + counter) */

/* Heap in use by the C allocator (libc/heap.c). */
uint32_t heap_used(void);
uint32_t heap_limit(void);
void heap_set_limit(uint32_t end);

/* Hot-plugged RAM sections (arch/<arch>/mmu.c): map (1) or unmap (0); -1 for a refused range. */
int mmu_hotplug(uint32_t phys, uint32_t size, int map, uint32_t ram_end);

/* The page pool above the C heap (page_pool.c): returns the heap's new end. */
uint32_t page_pool_init(uint32_t heap_start, uint32_t ram_end, uint32_t engine_limit);

#endif
