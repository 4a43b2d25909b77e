// Module resolve hook (see hook.mjs): "uvu" from a test file resolves to the recorder.
const RECORDER = new URL("./recorder.mjs", import.meta.url).href;

export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? "";
  if (specifier === "uvu" && parent !== RECORDER && !/\/node_modules\/uvu\//.test(parent)) {
    return { url: RECORDER, shortCircuit: true };
  }
  return next(specifier, context);
}
