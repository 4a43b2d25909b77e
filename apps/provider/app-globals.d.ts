// Globals the firmware gives an application that @moddable/typings does not declare
// (its xs.d.ts declares `trace`): `console`, installed by platform/xs (one line per call
// on the UART).

declare var console: {
  log(...values: unknown[]): void;
  info(...values: unknown[]): void;
  debug(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
};
