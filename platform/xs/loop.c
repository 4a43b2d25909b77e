/* The event loop: run promise jobs, dispatch one queued interrupt, deliver UART bytes,
 * run due timers; when there is nothing to do, sleep with `wfi`. The check and the
 * sleep happen with IRQs masked so no wake-up is lost (WFI wakes on a pending interrupt
 * even while CPSR.I masks it). JavaScript is reached only through the hooks object that
 * platform.ts stores in globalThis.__xsHooks: irq(line), rx(ArrayBuffer), timers(). */
#include "xs.h"
#include "board.h"
#include "xs_glue.h"
#include "natives.h"

static xsIdentifier id_hooks, id_irq, id_rx, id_timers;

/* Time spent asleep in `wfi` since boot, in ms (engine stats `idleMs`): a benchmark
 * tells the CPU's share from the device's with it. */
double loop_idle_ms = 0;

/* Calls hooks[name](arg) if both exist; a throw is printed and the loop goes on. */
static int call_hook(xsMachine* the, xsIdentifier name, int kind, int line, const uint8_t* bytes, uint32_t n) {
	volatile int called = 0;
	xsBeginHost(the);
	{
		xsVars(2);
		xsTry {
			xsVar(0) = xsGet(xsGlobal, id_hooks);
			if (xsTest(xsVar(0)) && xsHas(xsVar(0), name)) {
				called = 1;
				if (kind == 0) xsCall1(xsVar(0), name, xsInteger(line));
				else if (kind == 1) { xsVar(1) = xsArrayBuffer((void*)bytes, n); xsCall1(xsVar(0), name, xsVar(1)); }
				else xsCall0(xsVar(0), name);
			}
		}
		xsCatch {
			glue_report_current_exception(the, "Uncaught exception: ");
		}
	}
	xsEndHost(the);
	return called;
}

void run_loop(xsMachine* the) {
	static uint8_t rx[256];
	id_hooks = xsID("__xsHooks");
	id_irq = xsID("irq");
	id_rx = xsID("rx");
	id_timers = xsID("timers");
	for (;;) {
		int worked = glue_run_promise_jobs(the);
		int line = irq_next_pending();
		if (line >= 0) {
			/* Nobody to dispatch to: end the interrupt so the line is not lost. */
			if (!call_hook(the, id_irq, 0, line, 0, 0)) irq_user_eoi((uint32_t)line);
			glue_run_promise_jobs(the); /* each hook is a task: its promise jobs run before the next */
			worked = 1;
		}
		if (uart_rx_pending()) {
			uint32_t n = uart_rx_read(rx, sizeof(rx));
			if (n) call_hook(the, id_rx, 1, 0, rx, n);
			glue_run_promise_jobs(the);
			worked = 1;
		}
		if (timer_due()) {
			timer_arm_ms(-1); /* the hook re-arms for the next deadline */
			call_hook(the, id_timers, 2, 0, 0, 0);
			worked = 1;
		}
		if (worked) continue;
		irq_mask_cpu();
		if (!irq_any_pending() && !uart_rx_pending() && !timer_due() && !glue_has_promise_jobs(the)) {
			double t0 = timer_now_ms();
			cpu_wfi();
			loop_idle_ms += timer_now_ms() - t0;
		}
		irq_unmask_cpu();
	}
}

/* The embedded bundle (link.ld: .bundle), parsed and run as one script. */
void run_bundle(xsMachine* the) {
	xsBeginHost(the);
	{
		xsTry {
			glue_run_script(the, (const char*)__bundle_start, (size_t)(__bundle_end - __bundle_start), "bundle.js");
		}
		xsCatch {
			glue_report_current_exception(the, "Uncaught exception: ");
		}
	}
	xsEndHost(the);
}
