/* Between main.c (public xs.h API) and xs_glue.c (engine internals): the machine is
 * passed as void* since the two headers name its type differently. */
#ifndef XS_GLUE_H
#define XS_GLUE_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t chunks_current, chunks_peak, chunks_reserved;
	uint32_t slots_current, slots_peak, slots_reserved, slot_size;
	uint32_t stack_slots, stack_used;
	uint32_t keys_used, keys_reserved;
	uint32_t allocated, allocation_limit;
} engine_stats_t;

/* Bytes XS may take for chunks and slots (set from the manifest before the machine). */
extern size_t glue_allocation_limit;
/* Guest time the boot script took to parse and compile (ms). */
extern double glue_bundle_parse_ms;

int glue_run_promise_jobs(void* machine);
int glue_has_promise_jobs(void* machine);
void glue_run_script(void* machine, const char* source, size_t size, const char* path);
void glue_engine_stats(void* machine, engine_stats_t* s);

/* Prints the pending exception (message and stack) and clears it. */
void glue_report_current_exception(void* machine, const char* prefix);
#endif
