// Preloaded into each uvu run by tools/test.mjs (node --import): test files that import
// "uvu" get recorder.mjs instead, which wraps uvu's own suite() so that every test's
// result (and, for a failed test, the console logs of the boards it used) is recorded.
// uvu itself, and the recorder, still get the real "uvu".
import { register } from "node:module";

register("./resolve.mjs", import.meta.url);
