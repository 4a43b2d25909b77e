/* A minimal flattened-device-tree walker (Devicetree Specification v0.4, chapter 5) for
 * what C needs before JavaScript runs, on every board: RAM, the UART (arm,pl011 or
 * ns16550a), the interrupt controller (GICv2/v3, or a RISC-V PLIC and the context of the
 * boot hart's S-mode), the timer (the ARM generic timer's PPI, or the RISC-V timebase and
 * Sstc), PSCI, the RTC (PL031 or goldfish), and the ranges JavaScript may reach
 * (virtio-mmio, the PCIe bridge's ECAM, I/O and 32-bit memory windows, the GICv2m frame).
 * Every depth is walked (ARM's devices sit at the top level, RISC-V's under /soc); a node
 * is judged at its end, with its parent's #address-cells/#size-cells. The full parse for
 * JavaScript (BoardInfo) is platform/fdt.ts. All blob values are big-endian. */
#include <string.h>
#include "board.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define MAX_DEPTH 16
#define RISCV_IRQ_S_EXTERNAL 9u /* the hart-local interrupt a PLIC S-mode context raises */

typedef struct {
	uint32_t addr_cells, size_cells; /* for this node's children */
	const uint8_t *compatible, *reg, *irqs, *irqs_ext, *ranges, *device_type, *method, *isa;
	uint32_t compatible_len, reg_len, irqs_len, irqs_ext_len, ranges_len;
	uint32_t phandle, ndev, timebase, unit;
	int has_phandle, has_ndev, has_timebase, is_intc, dma_coherent;
} node_t;

/* What is only known once the whole tree is read. */
typedef struct {
	int found;                  /* FOUND_* bits */
	int intc_is_plic;
	uint32_t uart_irq[3], uart_irq_cells;
	const uint8_t* plic_irqs_ext;
	uint32_t plic_irqs_ext_len;
	uint32_t hart_intc_phandle; /* the boot hart's riscv,cpu-intc */
	int hart_intc_known;
	uint32_t boot_hart;
	uint32_t virtio_nodes, virtio_coherent; /* virtio,mmio nodes, and those marked dma-coherent */
} scan_t;

#define FOUND_RAM 1
#define FOUND_UART 2
#define FOUND_INTC 4
#define FOUND_TIMER 8

static uint32_t be32(const uint8_t* p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

uint32_t fdt_total_size(const uint8_t* dtb) {
	if (be32(dtb) != FDT_MAGIC) return 0;
	uint32_t total = be32(dtb + 4);
	if (total < 40 || total > 0x100000) return 0;
	return total;
}

/* A cell group as a 32-bit value: upper cells must be 0 (everything used lies below 4 GiB). */
static int cells_value(const uint8_t* p, uint32_t cells, uint32_t* out) {
	for (uint32_t i = 0; i + 1 < cells; i++) if (be32(p + 4 * i)) return 0;
	*out = cells ? be32(p + 4 * (cells - 1)) : 0;
	return 1;
}

static int has_compatible(const node_t* n, const char* want) {
	uint32_t len = strlen(want), i = 0;
	while (n->compatible && i < n->compatible_len) {
		uint32_t l = strnlen((const char*)n->compatible + i, n->compatible_len - i);
		if (l == len && !memcmp(n->compatible + i, want, len)) return 1;
		i += l + 1;
	}
	return 0;
}

static int is_type(const node_t* n, const char* type) { return n->device_type && !strcmp((const char*)n->device_type, type); }

/* The `index`th (base, size) of a node's reg, in its parent's cells; 0 if absent or above 4 GiB. */
static int reg_at(const node_t* n, const node_t* parent, uint32_t index, uint32_t* base, uint32_t* size) {
	uint32_t ac = parent->addr_cells, sc = parent->size_cells, at = 4 * (ac + sc) * index;
	if (ac > 2 || sc > 2 || !n->reg || n->reg_len < at + 4 * (ac + sc)) return 0;
	return cells_value(n->reg + at, ac, base) && cells_value(n->reg + at + 4 * ac, sc, size) && *size <= 0xFFFFFFFFu - *base;
}

/* GIC interrupt specifier (3 cells: type, number, flags) to INTID: SPI n = 32+n, PPI n = 16+n. */
static uint32_t gic_intid(const uint32_t* cells) { return (cells[0] == 0 ? 32u : 16u) + cells[1]; }

/* The riscv,isa string names `ext` among its "_"-separated multi-letter extensions. */
static int isa_has(const node_t* n, const char* ext) {
	const char* s = (const char*)n->isa;
	uint32_t len = strlen(ext);
	for (const char* p = strchr(s, '_'); p; p = strchr(p + 1, '_'))
		if (!strncmp(p + 1, ext, len) && (p[1 + len] == '_' || p[1 + len] == 0)) return 1;
	return 0;
}

/* The PCIe bridge's ECAM and windows: ranges = <PCI phys.hi .mid .lo> <CPU address: parent
 * cells> <size: 2 cells>. An ECAM above 4 GiB (ARM highmem on) gives no PCI for JavaScript. */
static void pci_host(const node_t* n, const node_t* parent, board_t* b) {
	uint32_t base, size;
	if (b->ecam_size || !reg_at(n, parent, 0, &base, &size)) return;
	b->ecam_base = base;
	b->ecam_size = size;
	uint32_t ac = parent->addr_cells, step = 4 * (3 + ac + 2); /* reg_at checked ac <= 2 */
	for (uint32_t o = 0; n->ranges && o + step <= n->ranges_len; o += step) {
		uint32_t space = (be32(n->ranges + o) >> 24) & 3, cpu, len;
		if (!cells_value(n->ranges + o + 12, ac, &cpu) || !cells_value(n->ranges + o + 12 + 4 * ac, 2, &len)) continue;
		if (len == 0 || len > 0xFFFFFFFFu - cpu) continue; /* a 64-bit window above 4 GiB */
		uint32_t pci_hi = be32(n->ranges + o + 4), pci_lo = be32(n->ranges + o + 8);
		if (pci_hi != 0 || len > 0xFFFFFFFFu - pci_lo) continue; /* PCI side above 4 GiB */
		if (space == 1 && !b->pci_io_size) { b->pci_io_base = cpu; b->pci_io_size = len; b->pci_io_pci = pci_lo; }
		else if (space == 2 && !b->pci_mem_size) { b->pci_mem_base = cpu; b->pci_mem_size = len; b->pci_mem_pci = pci_lo; }
	}
}

static void node_end(const node_t* n, const node_t* parent, board_t* b, scan_t* sc) {
	uint32_t base, size;
	if (is_type(n, "memory")) {
		if (!(sc->found & FOUND_RAM) && reg_at(n, parent, 0, &base, &size)) { b->ram_base = base; b->ram_size = size; sc->found |= FOUND_RAM; }
	} else if (has_compatible(n, "arm,pl011") || has_compatible(n, "ns16550a")) {
		if (!(sc->found & FOUND_UART) && n->irqs && n->irqs_len >= 4 && reg_at(n, parent, 0, &base, &size)) {
			b->uart_base = base;
			sc->uart_irq_cells = n->irqs_len >= 12 ? 3 : 1; /* decoded once the controller is known */
			for (uint32_t i = 0; i < sc->uart_irq_cells; i++) sc->uart_irq[i] = be32(n->irqs + 4 * i);
			sc->found |= FOUND_UART;
		}
	} else if (has_compatible(n, "arm,cortex-a15-gic") || has_compatible(n, "arm,gic-400") || has_compatible(n, "arm,gic-v3")) {
		/* reg[0] the distributor; reg[1] the CPU interface (v2) or the redistributors (v3). */
		uint32_t second;
		if (!(sc->found & FOUND_INTC) && reg_at(n, parent, 0, &b->gicd_base, &size) && reg_at(n, parent, 1, &b->gicc_base, &second)) {
			b->gic_version = has_compatible(n, "arm,gic-v3") ? 3 : 2;
			sc->found |= FOUND_INTC;
		}
	} else if (has_compatible(n, "arm,gic-v2m-frame")) {
		if (!b->v2m_base && reg_at(n, parent, 0, &base, &size)) { b->v2m_base = base; b->v2m_size = size; }
	} else if (has_compatible(n, "riscv,plic0") || has_compatible(n, "sifive,plic-1.0.0")) {
		if (!(sc->found & FOUND_INTC) && n->has_ndev && reg_at(n, parent, 0, &base, &size)) {
			b->intc_base = base;
			b->intc_size = size;
			b->intc_lines = n->ndev;
			sc->intc_is_plic = 1;
			sc->plic_irqs_ext = n->irqs_ext;
			sc->plic_irqs_ext_len = n->irqs_ext_len;
			sc->found |= FOUND_INTC;
		}
	} else if (has_compatible(n, "arm,armv7-timer") || has_compatible(n, "arm,armv8-timer")) {
		/* interrupts: secure, non-secure physical, virtual, hypervisor PPIs: the virtual one. */
		if (n->irqs && n->irqs_len >= 36) {
			uint32_t cells[2] = { be32(n->irqs + 24), be32(n->irqs + 28) };
			b->timer_intid = gic_intid(cells);
			sc->found |= FOUND_TIMER;
		}
	} else if (n->is_intc && has_compatible(n, "riscv,cpu-intc")) {
		/* The hart-local controller of the boot hart: its phandle picks the PLIC context. */
		if (n->has_phandle && is_type(parent, "cpu") && parent->unit == sc->boot_hart) {
			sc->hart_intc_phandle = n->phandle;
			sc->hart_intc_known = 1;
		}
	} else if (is_type(n, "cpu") && n->isa && n->unit == sc->boot_hart) {
		b->has_sstc = isa_has(n, "sstc");
		/* timebase-frequency: the cpu's own, or (QEMU) /cpus'. */
		if (n->has_timebase) b->timebase_hz = n->timebase;
		else if (parent->has_timebase) b->timebase_hz = parent->timebase;
		if (b->timebase_hz) sc->found |= FOUND_TIMER;
	} else if (has_compatible(n, "arm,psci-0.2") || has_compatible(n, "arm,psci")) {
		if (n->method) b->psci_smc = !strcmp((const char*)n->method, "smc");
	} else if (has_compatible(n, "arm,pl031") || has_compatible(n, "google,goldfish-rtc")) {
		if (!b->rtc_base && reg_at(n, parent, 0, &base, &size)) { b->rtc_base = base; b->rtc_goldfish = has_compatible(n, "google,goldfish-rtc"); }
	} else if (has_compatible(n, "virtio,mmio")) {
		if (reg_at(n, parent, 0, &base, &size) && size) {
			if (!b->virtio_hi || base < b->virtio_lo) b->virtio_lo = base;
			if (base + size > b->virtio_hi) b->virtio_hi = base + size;
			sc->virtio_nodes++;
			sc->virtio_coherent += (uint32_t)n->dma_coherent;
		}
	} else if (has_compatible(n, "pci-host-ecam-generic")) {
		pci_host(n, parent, b);
	}
}

/* What the tree gave, checked and finished: the UART's line in the controller's numbering,
 * and a PLIC's context for the boot hart's S-mode (the index of its <phandle 9> pair in
 * interrupts-extended: one context per pair, in order, RISC-V PLIC binding). */
static const char* finish(board_t* b, scan_t* sc) {
	if (!(sc->found & FOUND_RAM)) return "DTB: no /memory node";
	if (!(sc->found & FOUND_UART)) return "DTB: no arm,pl011 or ns16550a UART";
	if (!(sc->found & FOUND_INTC)) return "DTB: no interrupt controller (GICv2, GICv3 or PLIC)";
	if (!(sc->found & FOUND_TIMER)) return "DTB: no timer (arm,armv7-timer, arm,armv8-timer or a hart's timebase-frequency)";
	/* The DMA pool may be cacheable only if every virtio-mmio device snoops (arch mmu.c). */
	b->dma_coherent = sc->virtio_nodes > 0 && sc->virtio_coherent == sc->virtio_nodes;
	if (sc->intc_is_plic) {
		b->uart_intid = sc->uart_irq[0];
		for (uint32_t i = 0; sc->plic_irqs_ext && 8 * i + 8 <= sc->plic_irqs_ext_len; i++) {
			uint32_t ph = be32(sc->plic_irqs_ext + 8 * i), irq = be32(sc->plic_irqs_ext + 8 * i + 4);
			if (irq == RISCV_IRQ_S_EXTERNAL && (!sc->hart_intc_known || ph == sc->hart_intc_phandle)) {
				b->intc_context = i;
				return 0;
			}
		}
		return "DTB: the PLIC has no supervisor-mode context for the boot hart";
	}
	if (sc->uart_irq_cells < 3) return "DTB: the UART's interrupt is not a GIC specifier";
	b->uart_intid = gic_intid(sc->uart_irq);
	return 0;
}

const char* fdt_scan(const uint8_t* dtb, uint32_t boot_hart, board_t* b) {
	uint32_t total = fdt_total_size(dtb);
	if (!total) return "bad DTB header (magic or size)";
	uint32_t off_struct = be32(dtb + 8), off_strings = be32(dtb + 12);
	uint32_t size_strings = be32(dtb + 32), size_struct = be32(dtb + 36);
	if (off_struct >= total || size_struct > total - off_struct || off_strings >= total || size_strings > total - off_strings)
		return "DTB blocks outside the blob";
	const uint8_t* s = dtb + off_struct;
	const uint8_t* end = s + size_struct;
	const char* strings = (const char*)dtb + off_strings;
	static node_t stack[MAX_DEPTH + 1]; /* stack[0]: the root's parent, with the spec's defaults */
	scan_t sc;
	int depth = 0;
	memset(b, 0, sizeof(*b));
	memset(&sc, 0, sizeof(sc));
	sc.boot_hart = boot_hart;
	memset(&stack[0], 0, sizeof(stack[0]));
	stack[0].addr_cells = 2;
	stack[0].size_cells = 1;
	while (s + 4 <= end) {
		uint32_t tok = be32(s);
		s += 4;
		if (tok == FDT_BEGIN_NODE) {
			uint32_t l = strnlen((const char*)s, end - s);
			s += (l + 4) & ~3u;
			if (++depth > MAX_DEPTH) return "DTB: nodes nested too deep";
			memset(&stack[depth], 0, sizeof(stack[depth]));
			stack[depth].addr_cells = 2; /* spec §2.3.5 defaults */
			stack[depth].size_cells = 1;
		} else if (tok == FDT_END_NODE) {
			if (depth == 0) return "DTB: unbalanced END_NODE";
			node_end(&stack[depth], &stack[depth - 1], b, &sc);
			depth--;
		} else if (tok == FDT_PROP) {
			if (s + 8 > end) break;
			uint32_t len = be32(s), nameoff = be32(s + 4);
			const uint8_t* val = s + 8;
			if (nameoff >= size_strings || len > (uint32_t)(end - val)) return "DTB: property outside the blob";
			if (depth == 0) return "DTB: property outside any node";
			const char* p = strings + nameoff;
			node_t* n = &stack[depth];
			if (!strcmp(p, "#address-cells") && len == 4) n->addr_cells = be32(val);
			else if (!strcmp(p, "#size-cells") && len == 4) n->size_cells = be32(val);
			else if (!strcmp(p, "compatible")) { n->compatible = val; n->compatible_len = len; }
			else if (!strcmp(p, "reg")) {
				n->reg = val;
				n->reg_len = len;
				if (len >= 4) n->unit = be32(val + len - 4); /* a cpu's reg is its hart id (or MPIDR) */
			}
			else if (!strcmp(p, "interrupts")) { n->irqs = val; n->irqs_len = len; }
			else if (!strcmp(p, "interrupts-extended")) { n->irqs_ext = val; n->irqs_ext_len = len; }
			else if (!strcmp(p, "ranges")) { n->ranges = val; n->ranges_len = len; }
			else if (!strcmp(p, "device_type") && len && !val[len - 1]) n->device_type = val;
			else if (!strcmp(p, "method") && len && !val[len - 1]) n->method = val;
			else if (!strcmp(p, "riscv,isa") && len && !val[len - 1]) n->isa = val;
			else if (!strcmp(p, "riscv,ndev") && len == 4) { n->ndev = be32(val); n->has_ndev = 1; }
			else if (!strcmp(p, "timebase-frequency") && len == 4) { n->timebase = be32(val); n->has_timebase = 1; }
			else if (!strcmp(p, "phandle") && len == 4) { n->phandle = be32(val); n->has_phandle = 1; }
			else if (!strcmp(p, "interrupt-controller")) n->is_intc = 1;
			else if (!strcmp(p, "dma-coherent")) n->dma_coherent = 1;
			else if (!strcmp(p, "model") && depth == 1) strncpy(b->model, (const char*)val, sizeof(b->model) - 1);
			s = val + ((len + 3) & ~3u);
		} else if (tok == FDT_NOP) {
		} else if (tok == FDT_END) {
			break;
		} else return "DTB: unknown structure token";
	}
	return finish(b, &sc);
}
