/* A build-time tool, compiled for the BUILD machine (not the firmware): parses and
 * compiles the JavaScript bundle with the same XS 13.3 sources and options as the
 * firmware, and writes the bytecode, so the firmware does not parse at every boot.
 * XS bytecode does not depend on the CPU (Moddable's xsc works the same way): numbers
 * and IDs are little-endian, IDs are 16-bit on both sides, no pointers are stored.
 *
 *   xs_compile bundle.js bundle.xsb
 *
 * Output (little-endian): "XSB1", u32 code size, u32 symbols size, code, symbols.
 * The firmware (xs_glue.c) remaps the symbols to its own IDs when it runs the script. */
#include "xsAll.h"
#include "xsScript.h"

void fxCreateMachinePlatform(txMachine* the) { the->promiseJobs = 0; the->aborting = 0; the->allocatedSpace = 0; the->allocationLimit = (size_t)1 << 30; }
void fxDeleteMachinePlatform(txMachine* the) { (void)the; }
void* fxAllocateChunks(txMachine* the, txSize size) { (void)the; return c_malloc(size); }
void fxFreeChunks(txMachine* the, void* chunks) { (void)the; c_free(chunks); }
txSlot* fxAllocateSlots(txMachine* the, txSize count) { (void)the; return (txSlot*)c_malloc(count * sizeof(txSlot)); }
void fxFreeSlots(txMachine* the, void* slots) { (void)the; c_free(slots); }
char* fxCStackLimit(void) { return C_NULL; }
void fxQueuePromiseJobs(txMachine* the) { the->promiseJobs = 1; }
void fxAbort(txMachine* the, int status) { (void)the; fprintf(stderr, "xs_compile: XS abort %d\n", status); exit(2); }

static void put32(FILE* f, uint32_t v) {
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fwrite(b, 1, 4, f);
}

int main(int argc, char** argv) {
	if (argc != 3) { fprintf(stderr, "usage: xs_compile bundle.js bundle.xsb\n"); return 2; }
	FILE* in = fopen(argv[1], "rb");
	if (!in) { perror(argv[1]); return 2; }
	fseek(in, 0, SEEK_END);
	long size = ftell(in);
	fseek(in, 0, SEEK_SET);
	char* source = malloc((size_t)size + 1);
	if (fread(source, 1, (size_t)size, in) != (size_t)size) { perror(argv[1]); return 2; }
	source[size] = 0;
	fclose(in);

	txCreation creation = { 1 << 20, 1 << 20, 1 << 16, 1 << 14, 4096, 4096, 1024, 1021, 127, 1 << 16, 1021, 0 };
	txMachine* the = fxCreateMachine(&creation, "xs_compile", NULL, XS_NO_ID);
	if (!the) { fprintf(stderr, "xs_compile: cannot create a machine\n"); return 2; }

	txStringCStream stream = { source, 0, (txSize)size };
	txParser _parser;
	txParser* parser = &_parser;
	txParserJump jump;
	txScript* volatile script = C_NULL;
	fxInitializeParser(parser, the, the->parserBufferSize, the->parserTableModulo);
	parser->firstJump = &jump;
	if (c_setjmp(jump.jmp_buf) == 0) {
		parser->path = fxNewParserSymbol(parser, "bundle.js");
		fxParserTree(parser, &stream, fxStringCGetter, mxProgramFlag, C_NULL);
		fxParserHoist(parser);
		fxParserBind(parser);
		script = fxParserCode(parser);
	}
	int errors = parser->errorCount;
	fxTerminateParser(parser);
	if (!script || errors) { fprintf(stderr, "xs_compile: %s: %d error(s)\n", argv[1], errors); return 1; }

	FILE* out = fopen(argv[2], "wb");
	if (!out) { perror(argv[2]); return 2; }
	fwrite("XSB1", 1, 4, out);
	put32(out, (uint32_t)script->codeSize);
	put32(out, (uint32_t)script->symbolsSize);
	fwrite(script->codeBuffer, 1, (size_t)script->codeSize, out);
	fwrite(script->symbolsBuffer, 1, (size_t)script->symbolsSize, out);
	if (fclose(out) != 0) { perror(argv[2]); return 2; }
	printf("xs_compile: %ld bytes of source -> %ld bytes of bytecode + %ld bytes of symbols\n", size, (long)script->codeSize, (long)script->symbolsSize);
	return 0;
}
