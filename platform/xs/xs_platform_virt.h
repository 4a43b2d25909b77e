/* The XS platform header for bare-metal ARMv7-A (selected by the build with
 * -DINCLUDE_XSPLATFORM -DXSPLATFORM="xs_platform_virt.h"). No threads, no files: the
 * library defaults serve keys, module lookup and script parsing; xs_glue.c provides the
 * machine platform, promise-job queueing, fxAbort, the C stack limit and allocation. */
#ifndef XS_PLATFORM_VIRT_H
#define XS_PLATFORM_VIRT_H

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define mxUseDefaultBuildKeys 1
#define mxUseDefaultFindModule 1
#define mxUseDefaultLoadModule 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1
#define mxUseDefaultDebug 1
#define mxUseDefaultCStackLimit 0
#define C_PATH_MAX 256

/* Strings as ECMAScript specifies them (ECMA-262 6.1.4: a sequence of UTF-16 code units):
 * XS stores them as CESU-8, so an astral character is a surrogate pair of two code units
 * ("\u{1F600}".length is 2, charCodeAt gives each half). Without it XS stores UTF-8 and
 * counts code points. The host bytecode compiler includes this header too, so both agree.
 * C code that hands a string to the outside world (the UART) must turn pairs back into UTF-8. */
#define mxCESU8 1

/* Per-machine platform state: the promise-job flag and the fxAbort re-entry guard. */
#define mxMachinePlatform \
	void* host; \
	int promiseJobs; \
	int aborting; \
	size_t allocatedSpace; \
	size_t allocationLimit;

#endif
