/* XS platform glue for bare metal: what the engine asks of its platform (xsPlatforms.c
 * lists it) plus the engine-facing half of the run loop. Built with xsAll.h. */
#include "xsAll.h"
#include "xsScript.h"
#include "board.h"
#include "xs_glue.h"

double glue_bundle_parse_ms;

/* Machine platform */
void fxCreateMachinePlatform(txMachine* the) {
	the->promiseJobs = 0;
	the->aborting = 0;
	the->allocatedSpace = 0;
	the->allocationLimit = glue_allocation_limit;
}
void fxDeleteMachinePlatform(txMachine* the) { (void)the; }

/* Allocation with a cap, so that a runaway script ends in "memory full" quickly and
 * leaves memory for C. */
static void* capped_malloc(txMachine* the, size_t size) {
	if (size > the->allocationLimit - the->allocatedSpace) return C_NULL;
	void* p = c_malloc(size);
	if (p) the->allocatedSpace += size;
	return p;
}
void* fxAllocateChunks(txMachine* the, txSize size) { return capped_malloc(the, (size_t)size); }
void fxFreeChunks(txMachine* the, void* chunks) { (void)the; c_free(chunks); }
txSlot* fxAllocateSlots(txMachine* the, txSize count) { return (txSlot*)capped_malloc(the, (size_t)count * sizeof(txSlot)); }
void fxFreeSlots(txMachine* the, void* slots) { (void)the; c_free(slots); }

/* C stack: the SVC stack (link.ld) with a margin for the C code XS calls. */
char* fxCStackLimit(void) { return (char*)__stack_svc_bottom + 64 * 1024; }

/* Promise jobs: flag them; the loop runs them. */
void fxQueuePromiseJobs(txMachine* the) { the->promiseJobs = 1; }

int glue_run_promise_jobs(void* machine) {
	txMachine* the = machine;
	int ran = 0;
	while (the->promiseJobs) {
		the->promiseJobs = 0;
		fxRunPromiseJobs(the);
		ran = 1;
	}
	fxEndJob(the);
	/* Jobs drained: a rejection still unhandled now is reported (through fxAbort), as
	 * Node does after the microtask queue; XS itself would wait for the promise's GC. */
	if (!the->promiseJobs) fxCheckUnhandledRejections(the, 1);
	return ran || the->promiseJobs;
}

int glue_has_promise_jobs(void* machine) { return ((txMachine*)machine)->promiseJobs; }

/* Prints a thrown value: its string form and, for errors, the stack. */
static void glue_report_exception(txMachine* the, const char* prefix, txSlot* exception) {
	char buf[512];
	mxPush(*exception);
	txSlot* exc = the->stack;
	mxTry(the) {
		mxPushSlot(exc);
		fxToStringBuffer(the, the->stack, buf, sizeof(buf));
		mxPop();
		uart_printf("%s%s\n", prefix, buf);
		if (exc->kind == XS_REFERENCE_KIND) {
			mxPushSlot(exc);
			mxGetID(mxID(_stack));
			if ((the->stack->kind == XS_STRING_KIND) || (the->stack->kind == XS_STRING_X_KIND)) {
				const char* stack = the->stack->value.string;
				const char* nl = c_strchr(stack, '\n'); /* the first line repeats the message */
				if (nl) uart_printf("%s\n", nl + 1);
			}
			mxPop();
		}
	}
	mxCatch(the) {
		uart_printf("%s(an exception that cannot be printed)\n", prefix);
	}
	mxPop();
}

/* fxAbort: unhandled exceptions and rejections are printed and the loop goes on; a full
 * heap, a stack overflow or anything else ends the machine: `FATAL: ` and power off.
 * Guarded: XS can enter it again (xsEndHost after an exit to host). */
void fxAbort(txMachine* the, int status) {
	if (status == XS_UNHANDLED_EXCEPTION_EXIT || status == XS_UNHANDLED_REJECTION_EXIT) {
		if (the->aborting) return;
		the->aborting = 1;
		glue_report_exception(the, status == XS_UNHANDLED_REJECTION_EXIT ? "Unhandled rejection: " : "Uncaught exception: ", &mxException);
		mxException = mxUndefined;
		the->aborting = 0;
		return;
	}
	static int fatal;
	if (fatal) power_off();
	fatal = 1;
	const char* why = "unknown";
	switch (status) {
	case XS_STACK_OVERFLOW_EXIT: why = "JavaScript stack overflow"; break;
	case XS_NOT_ENOUGH_MEMORY_EXIT: why = "JavaScript heap exhausted (memory full)"; break;
	case XS_NO_MORE_KEYS_EXIT: why = "JavaScript keys exhausted"; break;
	case XS_DEAD_STRIP_EXIT: why = "dead strip"; break;
	case XS_FATAL_CHECK_EXIT: why = "XS fatal check"; break;
	case XS_TOO_MUCH_COMPUTATION_EXIT: why = "too much computation"; break;
	default: break;
	}
	uart_printf("\nFATAL: %s (xs abort status %d)\n", why, status);
	power_off();
}

static uint32_t le32(const uint8_t* p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

/* A precompiled bundle (platform/xs/host/xs_compile.c): "XSB1", u32 code size, u32 symbols
 * size, code, symbols. Both are copied to the heap: fxRunScript remaps the code's IDs in
 * place and frees code, symbols and script when the script has run (functions keep their
 * own copies). NULL if the blob is not valid. */
static txScript* load_precompiled(txMachine* the, const char* blob, size_t size) {
	const uint8_t* p = (const uint8_t*)blob;
	if (size < 12 || c_memcmp(p, "XSB1", 4)) return C_NULL;
	uint32_t code = le32(p + 4), symbols = le32(p + 8);
	if (code == 0 || code > size - 12 || symbols > size - 12 - code) return C_NULL;
	txScript* script = c_calloc(1, sizeof(txScript));
	txS1* codes = c_malloc(code);
	txS1* syms = c_malloc(symbols ? symbols : 1);
	if (!script || !codes || !syms) {
		c_free(script);
		c_free(codes);
		c_free(syms);
		fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
		return C_NULL;
	}
	c_memcpy(codes, p + 12, code);
	c_memcpy(syms, p + 12 + code, symbols);
	script->codeBuffer = codes;
	script->codeSize = (txSize)code;
	script->symbolsBuffer = syms;
	script->symbolsSize = (txSize)symbols;
	return script;
}

/* Runs the boot script: precompiled bytecode if the build made it, else JavaScript source
 * parsed here, with a path so that syntax errors name it. */
void glue_run_script(void* machine, const char* source, size_t size, const char* path) {
	txMachine* the = machine;
	double t0 = timer_now_ms();
	txScript* volatile script = C_NULL;
	if (size >= 4 && !c_memcmp(source, "XSB1", 4)) {
		script = load_precompiled(the, source, size);
		if (!script) mxSyntaxError("%s: corrupt precompiled bundle", path);
	} else {
		txStringCStream stream = { (txString)source, 0, (txSize)size };
		txParser _parser;
		txParser* parser = &_parser;
		txParserJump jump;
		fxInitializeParser(parser, the, the->parserBufferSize, the->parserTableModulo);
		parser->firstJump = &jump;
		if (c_setjmp(jump.jmp_buf) == 0) {
			parser->path = fxNewParserSymbol(parser, (txString)path);
			fxParserTree(parser, &stream, fxStringCGetter, mxProgramFlag, C_NULL);
			fxParserHoist(parser);
			fxParserBind(parser);
			script = fxParserCode(parser);
		}
		fxTerminateParser(parser);
	}
	glue_bundle_parse_ms = timer_now_ms() - t0;
	txSlot* realm = mxProgram.value.reference->next->value.module.realm;
	fxRunScript(the, script, mxRealmGlobal(realm), C_NULL, mxRealmClosures(realm)->value.reference, C_NULL, mxProgram.value.reference);
	mxPullSlot(mxResult);
}

void glue_engine_stats(void* machine, engine_stats_t* s) {
	txMachine* the = machine;
	s->chunks_current = (uint32_t)the->currentChunksSize;
	s->chunks_peak = (uint32_t)the->peakChunksSize;
	s->chunks_reserved = (uint32_t)the->maximumChunksSize;
	s->slots_current = (uint32_t)the->currentHeapCount;
	s->slots_peak = (uint32_t)the->peakHeapCount;
	s->slots_reserved = (uint32_t)the->maximumHeapCount;
	s->slot_size = (uint32_t)sizeof(txSlot);
	s->stack_slots = (uint32_t)(the->stackTop - the->stackBottom);
	s->stack_used = (uint32_t)(the->stackTop - the->stack);
	s->keys_used = (uint32_t)the->keyIndex;
	s->keys_reserved = (uint32_t)the->keyCount;
	s->allocated = (uint32_t)the->allocatedSpace;
	s->allocation_limit = (uint32_t)the->allocationLimit;
}

void glue_report_current_exception(void* machine, const char* prefix) {
	txMachine* the = machine;
	txSlot exc = mxException;
	mxException = mxUndefined;
	glue_report_exception(the, prefix, &exc);
}
