/* What the C side learns from the device tree at boot (fdt_min.c) and the layout the
 * linker gives (link.ld). Nothing in here is hard-coded: a missing node is a FATAL. */
#ifndef BOARD_H
#define BOARD_H
#include <stdint.h>

typedef struct {
	uint32_t ram_base, ram_size;     /* /memory reg */
	uint32_t uart_base, uart_intid;  /* arm,pl011 reg + interrupts */
	uint32_t gicd_base, gicc_base;   /* arm,cortex-a15-gic reg[0], reg[1] */
	uint32_t timer_intid;            /* arm,armv7-timer: virtual timer PPI (3rd entry) */
	int psci_smc;                    /* psci method: 1 = "smc", 0 = "hvc" */
	uint32_t rtc_base;               /* arm,pl031 reg (0 if none): wall-clock time for Date */
	uint32_t virtio_lo, virtio_hi;   /* span of the virtio,mmio windows' reg [lo, hi): the only
	                                    registers JavaScript may reach (natives.c); 0, 0 if none */
	/* The PCIe host bridge (pci-host-ecam-generic, below 4 GiB: boot with highmem=off) and
	 * the GICv2m frame: JavaScript may also reach ECAM, the I/O and 32-bit memory windows
	 * (where the BARs it assigns live) and the frame. 0 sizes when absent. */
	uint32_t ecam_base, ecam_size;
	uint32_t pci_io_base, pci_io_size;   /* CPU address of PCI I/O space */
	uint32_t pci_mem_base, pci_mem_size; /* 32-bit memory window (CPU addresses) */
	uint32_t v2m_base, v2m_size;         /* arm,gic-v2m-frame */
	char model[64];
} board_t;

extern board_t g_board;

/* Linker symbols (link.ld). */
extern uint8_t __dtb_start[], __dma_start[], __dma_end[], __heap_start[];
extern uint8_t __stack_svc_bottom[], __stack_svc_top[];
extern uint8_t __bundle_start[], __bundle_end[];
extern uint8_t __text_start[], __bss_end[];

/* Parses the blob at `dtb` into `out`; returns NULL or a reason. */
const char* fdt_scan(const uint8_t* dtb, board_t* out);
/* Total size of a valid blob, 0 if the header is bad. */
uint32_t fdt_total_size(const uint8_t* dtb);

/* Console (pl011.c) */
void uart_init(uint32_t base);
void uart_putc(char c);
void uart_write(const char* data, uint32_t len);   /* raw bytes */
void uart_puts(const char* s);                     /* text: "\n" becomes "\r\n" */
void uart_irq(void);                               /* from irq_handle: drain the RX FIFO */
uint32_t uart_rx_read(uint8_t* buf, uint32_t max); /* from the loop */
int uart_rx_pending(void);
void uart_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/* GICv2 (gic.c) */
void gic_init(uint32_t dist, uint32_t cpu);
void gic_enable(uint32_t intid);
void gic_disable(uint32_t intid);
void gic_set_edge(uint32_t intid, int edge);
uint32_t gic_ack(void);
void gic_eoi(uint32_t iar);

/* Interrupt queue (irq.c): lines fired, masked, waiting for the loop. */
void irq_handle(void);
int irq_next_pending(void);           /* -1 if none; clears the bit */
int irq_any_pending(void);
int irq_user_enable(uint32_t intid);  /* 0 on bad line */
int irq_user_disable(uint32_t intid);
int irq_user_eoi(uint32_t intid);
#define IRQ_LINES 1020u

/* Generic timer (timer.c): the virtual counter and its compare. */
void timer_init(void);
uint64_t timer_count(void);
uint32_t timer_freq(void);
double timer_now_ms(void);
void timer_arm_ms(double deadline);  /* < 0: no deadline */
int timer_due(void);                 /* deadline set and reached */
int timer_armed(void);
void timer_irq(void);

/* MMU (mmu.c) */
void mmu_init(uint32_t ram_base, uint32_t ram_size);

/* PSCI (power.c) */
void power_off(void) __attribute__((noreturn));

/* CPU helpers (start.S) */
void cpu_wfi(void);
static inline void irq_mask_cpu(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_unmask_cpu(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void dsb_st(void) { __asm__ volatile("dsb st" ::: "memory"); }
static inline void dmb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

/* MMIO with explicit widths (device memory, little-endian like the CPU). */
static inline uint32_t rd32(uint32_t a) { return *(volatile uint32_t*)a; }
static inline void wr32(uint32_t a, uint32_t v) { *(volatile uint32_t*)a = v; }
static inline uint8_t rd8(uint32_t a) { return *(volatile uint8_t*)a; }
static inline void wr8(uint32_t a, uint8_t v) { *(volatile uint8_t*)a = v; }

/* Heap in use by the C allocator (syscalls.c). */
uint32_t heap_used(void);
uint32_t heap_limit(void);
void heap_set_limit(uint32_t end);

/* Hot-plugged RAM sections (mmu.c): map (1) or unmap (0); -1 for a refused range. */
int mmu_hotplug(uint32_t phys, uint32_t size, int map, uint32_t ram_end);

/* The page pool above the C heap (page_pool.c): returns the heap's new end. */
uint32_t page_pool_init(uint32_t heap_start, uint32_t ram_end, uint32_t engine_limit);

#endif
