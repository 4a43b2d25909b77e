/* A minimal flattened-device-tree walker (Devicetree Specification v0.4, chapter 5) for
 * what C needs before JavaScript runs: RAM, the PL011, the GIC, the timer, PSCI, and the
 * address ranges JavaScript may reach (virtio-mmio, the PCIe bridge, the GICv2m frame). The full
 * parse for JavaScript (BoardInfo) is platform/fdt.ts. All blob values are big-endian. */
#include <string.h>
#include "board.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

static uint32_t be32(const uint8_t* p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

uint32_t fdt_total_size(const uint8_t* dtb) {
	if (be32(dtb) != FDT_MAGIC) return 0;
	uint32_t total = be32(dtb + 4);
	if (total < 40 || total > 0x100000) return 0;
	return total;
}

/* Reads a reg/interrupts cell group of `cells` 32-bit cells as a 32-bit value (upper cells must be 0). */
static int cells_value(const uint8_t* p, uint32_t cells, uint32_t* out) {
	for (uint32_t i = 0; i + 1 < cells; i++) if (be32(p + 4 * i)) return 0;
	*out = cells ? be32(p + 4 * (cells - 1)) : 0;
	return 1;
}

static int has_compatible(const uint8_t* v, uint32_t len, const char* want) {
	uint32_t n = strlen(want), i = 0;
	while (i < len) {
		uint32_t l = strnlen((const char*)v + i, len - i);
		if (l == n && !memcmp(v + i, want, n)) return 1;
		i += l + 1;
	}
	return 0;
}

/* GIC interrupt specifier (3 cells: type, number, flags) to INTID: SPI n = 32+n, PPI n = 16+n. */
static uint32_t gic_intid(const uint8_t* p) { return (be32(p) == 0 ? 32u : 16u) + be32(p + 4); }

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
	uint32_t addr_cells = 2, size_cells = 1, depth = 0;
	/* Per top-level node: what it is and its reg / interrupts. */
	enum { N_OTHER, N_MEMORY, N_UART, N_GIC, N_TIMER, N_PSCI, N_RTC, N_VIRTIO, N_PCI } kind = N_OTHER;
	const uint8_t *reg = 0, *irqs = 0, *method = 0, *ranges = 0;
	uint32_t reg_len = 0, irqs_len = 0, ranges_len = 0;
	/* The depth-2 node's own cell sizes (for its children, e.g. the GIC's v2m frame). */
	uint32_t node_addr_cells = 2, node_size_cells = 1;
	int v2m = 0;
	const uint8_t* v2m_reg = 0;
	uint32_t v2m_reg_len = 0;
	int found = 0;
	memset(b, 0, sizeof(*b));
	while (s + 4 <= end) {
		uint32_t tok = be32(s);
		s += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char* name = (const char*)s;
			uint32_t l = strnlen(name, end - s);
			s += (l + 4) & ~3u;
			depth++;
			if (depth == 2) {
				kind = (!strncmp(name, "memory", 6)) ? N_MEMORY : N_OTHER;
				reg = irqs = method = ranges = 0;
				node_addr_cells = 2;
				node_size_cells = 1;
			} else if (depth == 3) {
				v2m = 0;
				v2m_reg = 0;
			}
		} else if (tok == FDT_END_NODE) {
			if (depth == 3 && v2m && v2m_reg && v2m_reg_len >= 4 * (node_addr_cells + node_size_cells) && !b->v2m_base) {
				uint32_t base, size;
				if (cells_value(v2m_reg, node_addr_cells, &base) && cells_value(v2m_reg + 4 * node_addr_cells, node_size_cells, &size)) {
					b->v2m_base = base;
					b->v2m_size = size;
				}
			}
			if (depth == 2 && kind == N_PCI && reg && reg_len >= 4 * (addr_cells + size_cells) && !b->ecam_size) {
				uint32_t base, size;
				/* ECAM above 4 GiB (highmem on) fails cells_value: no PCI for JavaScript. */
				if (cells_value(reg, addr_cells, &base) && cells_value(reg + 4 * addr_cells, size_cells, &size) && size <= 0xFFFFFFFFu - base) {
					b->ecam_base = base;
					b->ecam_size = size;
					/* ranges: <phys.hi phys.mid phys.lo> <parent address> <size: 2 cells> */
					uint32_t step = 4 * (3 + addr_cells + 2);
					for (uint32_t o = 0; ranges && o + step <= ranges_len; o += step) {
						uint32_t space = (be32(ranges + o) >> 24) & 3, cpu, len;
						if (!cells_value(ranges + o + 12, addr_cells, &cpu) || !cells_value(ranges + o + 12 + 4 * addr_cells, 2, &len)) continue;
						if (len == 0 || len > 0xFFFFFFFFu - cpu) continue;
						if (space == 1 && !b->pci_io_size) { b->pci_io_base = cpu; b->pci_io_size = len; }
						else if (space == 2 && !b->pci_mem_size) { b->pci_mem_base = cpu; b->pci_mem_size = len; }
					}
				}
			}
			if (depth == 2) {
				uint32_t v;
				if (kind == N_MEMORY && reg && reg_len >= 4 * (addr_cells + size_cells) && !(found & 1)) {
					if (cells_value(reg, addr_cells, &b->ram_base) && cells_value(reg + 4 * addr_cells, size_cells, &v)) { b->ram_size = v; found |= 1; }
				} else if (kind == N_UART && reg && irqs && irqs_len >= 12 && !(found & 2)) {
					if (cells_value(reg, addr_cells, &b->uart_base)) { b->uart_intid = gic_intid(irqs); found |= 2; }
				} else if (kind == N_GIC && reg && reg_len >= 8 * (addr_cells + size_cells)) {
					if (cells_value(reg, addr_cells, &b->gicd_base) && cells_value(reg + 4 * (addr_cells + size_cells), addr_cells, &b->gicc_base)) found |= 4;
				} else if (kind == N_TIMER && irqs && irqs_len >= 36) {
					b->timer_intid = gic_intid(irqs + 24); found |= 8;
				} else if (kind == N_RTC && reg && !b->rtc_base) {
					if (!cells_value(reg, addr_cells, &b->rtc_base)) b->rtc_base = 0;
				} else if (kind == N_VIRTIO && reg && reg_len >= 4 * (addr_cells + size_cells)) {
					uint32_t base, size;
					if (cells_value(reg, addr_cells, &base) && cells_value(reg + 4 * addr_cells, size_cells, &size) && size && size <= 0xFFFFFFFFu - base) {
						if (!b->virtio_hi || base < b->virtio_lo) b->virtio_lo = base;
						if (base + size > b->virtio_hi) b->virtio_hi = base + size;
					}
				} else if (kind == N_PSCI && method) {
					b->psci_smc = !strcmp((const char*)method, "smc");
				}
			}
			if (depth == 0) return "DTB: unbalanced END_NODE";
			depth--;
		} else if (tok == FDT_PROP) {
			if (s + 8 > end) break;
			uint32_t len = be32(s), nameoff = be32(s + 4);
			const uint8_t* val = s + 8;
			if (nameoff >= size_strings || len > (uint32_t)(end - val)) return "DTB: property outside the blob";
			const char* pname = strings + nameoff;
			if (depth == 1) {
				if (!strcmp(pname, "#address-cells") && len == 4) addr_cells = be32(val);
				else if (!strcmp(pname, "#size-cells") && len == 4) size_cells = be32(val);
				else if (!strcmp(pname, "model")) { strncpy(b->model, (const char*)val, sizeof(b->model) - 1); }
				if (addr_cells > 2 || size_cells > 2) return "DTB: more than 2 address/size cells";
			} else if (depth == 3) {
				if (!strcmp(pname, "compatible") && has_compatible(val, len, "arm,gic-v2m-frame")) v2m = 1;
				else if (!strcmp(pname, "reg")) { v2m_reg = val; v2m_reg_len = len; }
			} else if (depth == 2) {
				if (!strcmp(pname, "#address-cells") && len == 4) node_addr_cells = be32(val);
				else if (!strcmp(pname, "#size-cells") && len == 4) node_size_cells = be32(val);
				if (!strcmp(pname, "compatible")) {
					if (has_compatible(val, len, "arm,pl011")) kind = N_UART;
					else if (has_compatible(val, len, "arm,cortex-a15-gic") || has_compatible(val, len, "arm,gic-400")) kind = N_GIC;
					else if (has_compatible(val, len, "arm,armv7-timer")) kind = N_TIMER;
					else if (has_compatible(val, len, "arm,psci-0.2") || has_compatible(val, len, "arm,psci")) kind = N_PSCI;
					else if (has_compatible(val, len, "arm,pl031")) kind = N_RTC;
					else if (has_compatible(val, len, "virtio,mmio")) kind = N_VIRTIO;
					else if (has_compatible(val, len, "pci-host-ecam-generic")) kind = N_PCI;
				} else if (!strcmp(pname, "device_type") && !strcmp((const char*)val, "memory")) kind = N_MEMORY;
				else if (!strcmp(pname, "reg")) { reg = val; reg_len = len; }
				else if (!strcmp(pname, "interrupts")) { irqs = val; irqs_len = len; }
				else if (!strcmp(pname, "method")) method = val;
				else if (!strcmp(pname, "ranges")) { ranges = val; ranges_len = len; }
			}
			s = val + ((len + 3) & ~3u);
		} else if (tok == FDT_NOP) {
		} else if (tok == FDT_END) {
			break;
		} else return "DTB: unknown structure token";
	}
	if (!(found & 1)) return "DTB: no /memory node";
	if (!(found & 2)) return "DTB: no arm,pl011 UART";
	if (!(found & 4)) return "DTB: no GICv2";
	if (!(found & 8)) return "DTB: no arm,armv7-timer";
	return 0;
}
