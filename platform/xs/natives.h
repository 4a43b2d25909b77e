#ifndef NATIVES_H
#define NATIVES_H
#include "xs.h"
void natives_install(xsMachine* the);
void page_pool_natives(xsMachine* the);
void pci_bars_natives(xsMachine* the);
int pci_bars_allow(uint32_t a, uint32_t width);
void pci_bars_config_written(uint32_t a, uint32_t width);
void run_loop(xsMachine* the) __attribute__((noreturn));
void run_bundle(xsMachine* the);
uint32_t cstack_peak(void);
#endif
