/* The PCI BARs JavaScript may reach (natives.c mmio_addr): none until the PCI layer, once
 * it has assigned a BAR, claims it with __xsPciClaimBar(config, index). The claim reads
 * and sizes the BAR itself from the function's configuration space (PCI 3.0 §6.2.5.1:
 * decoding off, all ones in, the size mask out, the value and the command register put
 * back), checks that it lies in the bridge window of its kind (I/O or 32-bit memory),
 * and opens exactly [address, address + size). A later configuration write to any BAR
 * register of that function closes its claims (pci_bars_config_written): a moved BAR is
 * reachable again only once claimed again. The rest of the windows stays closed. */
#include "xs.h"
#include "board.h"
#include "natives.h"

extern uint32_t mmio_read8(uint32_t a), mmio_read16(uint32_t a), mmio_read32(uint32_t a);
extern void mmio_write16(uint32_t a, uint32_t v), mmio_write32(uint32_t a, uint32_t v);

enum { CFG_COMMAND = 0x04, CFG_HEADER_TYPE = 0x0e, CFG_BAR0 = 0x10, CFG_BARS_END = 0x28,
       CMD_IO = 1, CMD_MEMORY = 2, BAR_IO = 1, BAR_MEM_TYPE_MASK = 6, BAR_MEM_TYPE_64 = 4 };

#define MAX_CLAIMS 64
typedef struct { uint32_t config, index, base, size; } claim_t; /* config: ECAM offset of the function */
static claim_t claims[MAX_CLAIMS];
static uint32_t claim_count;

int pci_bars_allow(uint32_t a, uint32_t width) {
	for (uint32_t i = 0; i < claim_count; i++) {
		const claim_t* c = &claims[i];
		if (a >= c->base && a - c->base < c->size && width <= c->size - (a - c->base)) return 1;
	}
	return 0;
}

static void drop_function(uint32_t config) {
	uint32_t kept = 0;
	for (uint32_t i = 0; i < claim_count; i++)
		if (claims[i].config != config) claims[kept++] = claims[i];
	claim_count = kept;
}

void pci_bars_config_written(uint32_t a, uint32_t width) {
	if (!g_board.ecam_size || a < g_board.ecam_base || a - g_board.ecam_base >= g_board.ecam_size) return;
	uint32_t offset = a - g_board.ecam_base, reg = offset & 0xFFF;
	/* A bridge (header type 1) has two BARs; its bus numbers and windows follow them. */
	uint32_t end = (mmio_read8(g_board.ecam_base + (offset & ~0xFFFu) + CFG_HEADER_TYPE) & 0x7F) == 1 ? CFG_BAR0 + 8 : CFG_BARS_END;
	if (reg + width > CFG_BAR0 && reg < end) drop_function(offset & ~0xFFFu);
}

/* __xsPciClaimBar(config, index): `config` the CPU address of the function's 4 KiB of
 * ECAM, `index` its BAR (0-5; 0-1 on a bridge). Returns the BAR's CPU address. */
static void xs_pci_claim_bar(xsMachine* the) {
	double cd = xsToNumber(xsArg(0)), id = xsToNumber(xsArg(1));
	if (!g_board.ecam_size) xsRangeError("pci: the board has no PCI host bridge");
	if (!(cd >= g_board.ecam_base && cd < (double)g_board.ecam_base + g_board.ecam_size) || cd != (double)(uint32_t)cd || ((uint32_t)cd & 0xFFF))
		xsRangeError("pci claim: 0x%08lx is not the start of a function's configuration space in ECAM", (unsigned long)(uint32_t)cd);
	if (!(id >= 0 && id <= 5) || id != (double)(uint32_t)id) xsRangeError("pci claim: BAR index must be 0-5");
	uint32_t cfg = (uint32_t)cd, index = (uint32_t)id, reg = cfg + CFG_BAR0 + 4 * index;
	if (mmio_read16(cfg) == 0xFFFF) xsRangeError("pci claim: no function at 0x%08lx", (unsigned long)cfg);
	uint32_t header = mmio_read8(cfg + CFG_HEADER_TYPE) & 0x7F;
	if (header > 1 || (header == 1 && index > 1)) xsRangeError("pci claim: the function has no BAR%lu", (unsigned long)index);
	uint32_t original = mmio_read32(reg);
	int io = original & BAR_IO, is64 = !io && (original & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64;
	if (is64 && index == (header == 1 ? 1u : 5u)) xsRangeError("pci claim: BAR%lu is a 64-bit BAR with no upper half", (unsigned long)index);
	/* Size it with decoding off, then put the BAR and the command register back. */
	uint32_t command = mmio_read16(cfg + CFG_COMMAND);
	mmio_write16(cfg + CFG_COMMAND, command & ~(uint32_t)(CMD_IO | CMD_MEMORY));
	mmio_write32(reg, 0xFFFFFFFFu);
	uint32_t mask = mmio_read32(reg);
	mmio_write32(reg, original);
	uint32_t upper = 0, upper_mask = 0xFFFFFFFFu;
	if (is64) {
		upper = mmio_read32(reg + 4);
		mmio_write32(reg + 4, 0xFFFFFFFFu);
		upper_mask = mmio_read32(reg + 4);
		mmio_write32(reg + 4, upper);
	}
	mmio_write16(cfg + CFG_COMMAND, command);
	uint32_t bits = io ? (mask & ~3u) | 0xFFFF0000u : mask & ~0xFu; /* I/O BARs decode 16 bits here */
	uint32_t pci = io ? original & ~3u : original & ~0xFu;
	if ((mask & (io ? ~3u : ~0xFu)) == 0 || (is64 && upper_mask != 0xFFFFFFFFu)) xsRangeError("pci claim: BAR%lu is empty or larger than 4 GiB", (unsigned long)index);
	uint32_t size = ~bits + 1;
	if (upper != 0) xsRangeError("pci claim: BAR%lu is above 4 GiB", (unsigned long)index);
	if (pci == 0) xsRangeError("pci claim: BAR%lu is not assigned (address 0)", (unsigned long)index);
	uint32_t win_pci = io ? g_board.pci_io_pci : g_board.pci_mem_pci;
	uint32_t win_cpu = io ? g_board.pci_io_base : g_board.pci_mem_base;
	uint32_t win_size = io ? g_board.pci_io_size : g_board.pci_mem_size;
	if (!win_size || pci < win_pci || pci - win_pci >= win_size || size > win_size - (pci - win_pci))
		xsRangeError("pci claim: BAR%lu at PCI 0x%08lx (%lu bytes) is outside the bridge's %s window", (unsigned long)index, (unsigned long)pci,
		             (unsigned long)size, io ? "I/O" : "memory");
	uint32_t base = pci - win_pci + win_cpu;
	/* A new claim of the same BAR replaces the old one. */
	uint32_t config = cfg - g_board.ecam_base, slot = claim_count;
	for (uint32_t i = 0; i < claim_count; i++)
		if (claims[i].config == config && claims[i].index == index) slot = i;
	if (slot == MAX_CLAIMS) xsRangeError("pci claim: more than %u BARs claimed", (unsigned)MAX_CLAIMS);
	claims[slot] = (claim_t){ config, index, base, size };
	if (slot == claim_count) claim_count++;
	xsResult = xsNumber((double)base);
}

void pci_bars_natives(xsMachine* the) {
	xsVar(0) = xsNewHostFunction(xs_pci_claim_bar, 2);
	xsDefine(xsGlobal, xsID("__xsPciClaimBar"), xsVar(0), xsDontEnum);
}
