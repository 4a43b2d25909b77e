/* What C needs from the device tree of QEMU's riscv `virt` before JavaScript runs
 * (Devicetree Specification v0.4 chapter 5; the bindings QEMU's DTB uses): RAM, the
 * ns16550a UART, the PLIC and the context of this hart's supervisor mode, the timebase
 * and whether the hart has Sstc, the goldfish RTC, and the ranges JavaScript may reach
 * (virtio-mmio, the PCIe bridge's ECAM, I/O and 32-bit memory windows). Devices live
 * under /soc here, so every depth is walked; each node is judged at its end, with its
 * parent's #address-cells/#size-cells. The full parse for JavaScript is platform/fdt.ts. */
#include <string.h>
#include "board.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define MAX_DEPTH 16
#define IRQ_S_EXTERNAL 9u /* the hart-local interrupt the PLIC's S-mode context raises */

extern uint64_t boot_hartid; /* start.S: a0 at entry */

typedef struct {
	const char* name;
	uint32_t addr_cells, size_cells; /* for this node's children */
	const uint8_t *compatible, *reg, *irqs, *irqs_ext, *ranges, *device_type, *isa;
	uint32_t compatible_len, reg_len, irqs_len, irqs_ext_len, ranges_len;
	uint32_t phandle, ndev, timebase, cpu_hart;
	int has_phandle, has_ndev, has_timebase, is_intc;
} node_t;

static uint32_t be32(const uint8_t* p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

uint32_t fdt_total_size(const uint8_t* dtb) {
	if (be32(dtb) != FDT_MAGIC) return 0;
	uint32_t total = be32(dtb + 4);
	if (total < 40 || total > 0x100000) return 0;
	return total;
}

/* A cell group as a 32-bit value: upper cells must be 0 (everything we use is below 4 GiB). */
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

/* The first (base, size) of a node's reg, in its parent's cells; 0 if absent or above 4 GiB. */
static int first_reg(const node_t* n, const node_t* parent, uint32_t* base, uint32_t* size) {
	uint32_t ac = parent->addr_cells, sc = parent->size_cells;
	if (ac > 2 || sc > 2 || !n->reg || n->reg_len < 4 * (ac + sc)) return 0;
	return cells_value(n->reg, ac, base) && cells_value(n->reg + 4 * ac, sc, size) && *size <= 0xFFFFFFFFu - *base;
}

/* Hart-local interrupt controllers seen so far (phandle -> hart), to find the PLIC context. */
static uint32_t intc_phandle_of_boot_hart;
static int boot_hart_intc_known;
static const uint8_t* plic_irqs_ext;
static uint32_t plic_irqs_ext_len;

/* The riscv,isa string holds `ext` as one of its "_"-separated multi-letter extensions. */
static int isa_has(const uint8_t* isa, const char* ext) {
	const char* s = (const char*)isa;
	uint32_t n = strlen(ext);
	for (const char* p = strchr(s, '_'); p; p = strchr(p + 1, '_'))
		if (!strncmp(p + 1, ext, n) && (p[1 + n] == '_' || p[1 + n] == 0)) return 1;
	return 0;
}

static void node_end(const node_t* n, const node_t* parent, board_t* b, int* found) {
	uint32_t base, size;
	if (n->device_type && !strcmp((const char*)n->device_type, "memory") && !(*found & 1)) {
		if (first_reg(n, parent, &base, &size)) { b->ram_base = base; b->ram_size = size; *found |= 1; }
	} else if (has_compatible(n, "ns16550a") && !(*found & 2) && n->irqs && n->irqs_len >= 4) {
		if (first_reg(n, parent, &base, &size)) { b->uart_base = base; b->uart_intid = be32(n->irqs); *found |= 2; }
	} else if ((has_compatible(n, "riscv,plic0") || has_compatible(n, "sifive,plic-1.0.0")) && n->has_ndev && !(*found & 4)) {
		if (first_reg(n, parent, &base, &size)) {
			b->intc_base = base;
			b->intc_size = size;
			b->intc_lines = n->ndev;
			plic_irqs_ext = n->irqs_ext;
			plic_irqs_ext_len = n->irqs_ext_len;
			*found |= 4;
		}
	} else if (n->is_intc && has_compatible(n, "riscv,cpu-intc") && n->has_phandle && parent->device_type &&
	           !strcmp((const char*)parent->device_type, "cpu") && parent->cpu_hart == (uint32_t)boot_hartid) {
		intc_phandle_of_boot_hart = n->phandle;
		boot_hart_intc_known = 1;
	} else if (n->device_type && !strcmp((const char*)n->device_type, "cpu") && n->cpu_hart == (uint32_t)boot_hartid) {
		if (n->isa) b->has_sstc = isa_has(n->isa, "sstc");
		if (n->has_timebase) b->timebase_hz = n->timebase;
		else if (parent->has_timebase) b->timebase_hz = parent->timebase; /* /cpus holds it on QEMU */
	} else if (has_compatible(n, "google,goldfish-rtc") && !b->rtc_base) {
		if (first_reg(n, parent, &base, &size)) { b->rtc_base = base; b->rtc_goldfish = 1; }
	} else if (has_compatible(n, "virtio,mmio")) {
		if (first_reg(n, parent, &base, &size) && size) {
			if (!b->virtio_hi || base < b->virtio_lo) b->virtio_lo = base;
			if (base + size > b->virtio_hi) b->virtio_hi = base + size;
		}
	} else if (has_compatible(n, "pci-host-ecam-generic") && !b->ecam_size) {
		if (first_reg(n, parent, &base, &size)) {
			b->ecam_base = base;
			b->ecam_size = size;
			/* ranges: <PCI phys.hi .mid .lo> <CPU address: parent cells> <size: 2 cells> */
			uint32_t ac = parent->addr_cells, step = 4 * (3 + ac + 2); /* first_reg checked ac <= 2 */
			for (uint32_t o = 0; n->ranges && o + step <= n->ranges_len; o += step) {
				uint32_t space = (be32(n->ranges + o) >> 24) & 3, cpu, len;
				if (!cells_value(n->ranges + o + 12, ac, &cpu) || !cells_value(n->ranges + o + 12 + 4 * ac, 2, &len)) continue;
				if (len == 0 || len > 0xFFFFFFFFu - cpu) continue; /* the 64-bit window above 4 GiB */
				if (space == 1 && !b->pci_io_size) { b->pci_io_base = cpu; b->pci_io_size = len; }
				else if (space == 2 && !b->pci_mem_size) { b->pci_mem_base = cpu; b->pci_mem_size = len; }
			}
		}
	}
}

const char* fdt_scan(const uint8_t* dtb, board_t* b) {
	uint32_t total = fdt_total_size(dtb);
	if (!total) return "bad DTB header (magic or size)";
	uint32_t off_struct = be32(dtb + 8), off_strings = be32(dtb + 12);
	uint32_t size_strings = be32(dtb + 32), size_struct = be32(dtb + 36);
	if (off_struct >= total || size_struct > total - off_struct || off_strings >= total || size_strings > total - off_strings)
		return "DTB blocks outside the blob";
	const uint8_t* s = dtb + off_struct;
	const uint8_t* end = s + size_struct;
	const char* strings = (const char*)dtb + off_strings;
	static node_t stack[MAX_DEPTH + 1]; /* stack[0]: a pseudo-parent of the root */
	int depth = 0, found = 0;
	memset(b, 0, sizeof(*b));
	memset(&stack[0], 0, sizeof(stack[0]));
	stack[0].addr_cells = 2;
	stack[0].size_cells = 1;
	while (s + 4 <= end) {
		uint32_t tok = be32(s);
		s += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char* name = (const char*)s;
			uint32_t l = strnlen(name, end - s);
			s += (l + 4) & ~3u;
			if (++depth > MAX_DEPTH) return "DTB: nodes nested too deep";
			node_t* n = &stack[depth];
			memset(n, 0, sizeof(*n));
			n->name = name;
			n->addr_cells = 2; /* spec §2.3.5 defaults */
			n->size_cells = 1;
		} else if (tok == FDT_END_NODE) {
			if (depth == 0) return "DTB: unbalanced END_NODE";
			node_end(&stack[depth], &stack[depth - 1], b, &found);
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
				n->reg = val; n->reg_len = len;
				if (len >= 4) n->cpu_hart = be32(val + len - 4); /* a cpu's reg is its hart id */
			}
			else if (!strcmp(p, "interrupts")) { n->irqs = val; n->irqs_len = len; }
			else if (!strcmp(p, "interrupts-extended")) { n->irqs_ext = val; n->irqs_ext_len = len; }
			else if (!strcmp(p, "ranges")) { n->ranges = val; n->ranges_len = len; }
			else if (!strcmp(p, "device_type") && len) n->device_type = val;
			else if (!strcmp(p, "riscv,isa") && len) n->isa = val;
			else if (!strcmp(p, "riscv,ndev") && len == 4) { n->ndev = be32(val); n->has_ndev = 1; }
			else if (!strcmp(p, "timebase-frequency") && len == 4) { n->timebase = be32(val); n->has_timebase = 1; }
			else if (!strcmp(p, "phandle") && len == 4) { n->phandle = be32(val); n->has_phandle = 1; }
			else if (!strcmp(p, "interrupt-controller")) n->is_intc = 1;
			else if (!strcmp(p, "model") && depth == 1) strncpy(b->model, (const char*)val, sizeof(b->model) - 1);
			s = val + ((len + 3) & ~3u);
		} else if (tok == FDT_NOP) {
		} else if (tok == FDT_END) {
			break;
		} else return "DTB: unknown structure token";
	}
	if (!(found & 1)) return "DTB: no /memory node";
	if (!(found & 2)) return "DTB: no ns16550a UART";
	if (!(found & 4)) return "DTB: no PLIC (riscv,plic0)";
	if (!b->timebase_hz) return "DTB: no timebase-frequency for the boot hart";
	/* The PLIC context of this hart's S-mode: the index of the <phandle 9> pair in the
	 * PLIC's interrupts-extended (RISC-V PLIC binding: one context per pair, in order). */
	for (uint32_t i = 0; plic_irqs_ext && 8 * i + 8 <= plic_irqs_ext_len; i++) {
		uint32_t ph = be32(plic_irqs_ext + 8 * i), irq = be32(plic_irqs_ext + 8 * i + 4);
		if (irq == IRQ_S_EXTERNAL && (!boot_hart_intc_known || ph == intc_phandle_of_boot_hart)) {
			b->intc_context = i;
			return 0;
		}
	}
	return "DTB: the PLIC has no supervisor context for the boot hart";
}
