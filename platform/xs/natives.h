#ifndef NATIVES_H
#define NATIVES_H
#include "xs.h"
void natives_install(xsMachine* the);
void page_pool_natives(xsMachine* the);
void run_loop(xsMachine* the) __attribute__((noreturn));
void run_bundle(xsMachine* the);
uint32_t cstack_peak(void);
#endif
