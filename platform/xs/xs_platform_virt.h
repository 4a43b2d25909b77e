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

/* Per-machine platform state: the promise-job flag and the fxAbort re-entry guard. */
#define mxMachinePlatform \
	void* host; \
	int promiseJobs; \
	int aborting; \
	size_t allocatedSpace; \
	size_t allocationLimit;

#endif
