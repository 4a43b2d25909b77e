// Process-wide cleanup for the QEMU harness: no QEMU and no temp dir outlives this
// process. Every running QemuMachine is tracked; on exit and on SIGINT / SIGTERM / SIGHUP
// each is killed at once (killNow), then the process ends with 128 + the signal number.

const live = new Set();
let hooksInstalled = false;

function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const m of live) m.killNow();
  });
  for (const [sig, n] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]]) {
    process.once(sig, () => {
      for (const m of live) m.killNow();
      process.exit(128 + n);
    });
  }
}

/** `machine` (with killNow()) is killed if the process ends while it runs. */
export function trackMachine(machine) {
  installExitHooks();
  live.add(machine);
}

/** `machine` has ended and cleaned up. */
export function untrackMachine(machine) {
  live.delete(machine);
}
