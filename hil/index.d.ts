// Types of virtio-xs/hil (hil/index.mjs). Hand-written: keep in step with hil/*.mjs
// (tests/qemu/hil.test.mjs checks that the names match and compiles a typed use of them).

/** One QEMU device entry, in slot order. A string is one `-device` value (any device, PCI too). */
export type DeviceEntry =
  | string
  | { device: string }
  | { disk: string; readonly?: boolean; format?: string }
  | { net: true | { hostfwd?: string[] } }
  | { console: true | { path?: string } };

export interface DiskSpec {
  /** A raw image (or `format`). */
  path: string;
  readonly?: boolean;
  /** virtio-blk serial number (GET_ID), up to 20 bytes. */
  serial?: string;
  /** Boot a copy in the board's temp dir (removed by close()); the original is not touched. */
  copy?: boolean;
  /** QEMU image format; default "raw". */
  format?: string;
}

export interface ForwardSpec {
  protocol?: "udp" | "tcp";
  /** The guest's port (10.0.2.15). */
  guest: number;
  /** The host port on 127.0.0.1; default: a free one. */
  host?: number;
}

export interface Forward {
  protocol: "udp" | "tcp";
  hostAddress: "127.0.0.1";
  hostPort: number;
  guestPort: number;
}

export interface BoardOptions {
  /** For logs and error messages; default board-N. */
  name?: string;
  /** A firmware ELF (or raw image) to boot as it is. `elf` is the same. */
  firmware?: string;
  elf?: string;
  /** An app directory (with manifest.json), built with the project's firmware build; or its built ELF. */
  app?: string;
  /** Another entry module (.ts) of this project, built. */
  entry?: string;
  /** Boot a -bios image (e.g. U-Boot) instead of -kernel. */
  bios?: string;
  /** With none of the above: build the project's firmware (incremental, once per process). Default "auto" = true. */
  build?: boolean | "auto";
  /** boards/<board> (default qemu-virt-arm). */
  board?: string;
  /** QEMU's legacy virtio-mmio (transport version 1); default modern. */
  legacy?: boolean;
  /** -m value, e.g. "256M". */
  memory?: string;
  /** virtio-blk disks, first in slot order (slot 31 down). Drive ids: disk0, disk1, ... */
  disks?: Array<string | DiskSpec>;
  /** A virtio-rng-device after the disks. */
  rng?: boolean;
  /** How many virtio-console ports (each its own virtio-serial-device, on a unix socket). */
  consoles?: number;
  /** User networking (slirp: guest 10.0.2.15, host 10.0.2.2) on virtio-net; first netdev id net0. */
  net?: boolean | { forward?: Array<ForwardSpec | `${"udp" | "tcp"}:${number}`>; hostfwd?: string[] };
  /** More devices after those, in order: any QEMU -device string, or a DeviceEntry. */
  devices?: DeviceEntry[];
  /** Raw QEMU arguments appended. `extraArgs` is the same. */
  qemuArgs?: string[];
  extraArgs?: string[];
  /** The shell prompt to wait for at boot (default "virtio> "); null: do not wait. */
  prompt?: string | RegExp | null;
  /** Use the shell's batch mode (`@@status N` after each command); default true. */
  batch?: boolean;
  /** Connect QMP at boot (so no event is missed); default true. */
  qmp?: boolean;
  bootTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** QEMU is killed after this long even if this process dies (default 1800). */
  lifetimeS?: number;
  /** Gets every byte the UART prints (env QEMU_ECHO=1: stderr). */
  echo?: { write(s: string): unknown } | null;
}

export interface RunResult {
  /** What the command printed (\n line ends, status lines removed, trimmed). */
  output: string;
  /** 0 ok, 1 failed; null without batch mode. */
  status: number | null;
}

export type Match = RegExpExecArray & { before: string };

export interface WaitOptions {
  timeoutMs?: number;
  /** Names the wait in its error message (default: the pattern). */
  what?: string;
  /** Do not end the wait on a `FATAL: ` line. */
  allowFatal?: boolean;
}

export interface RunningCommand {
  waitFor(pattern: string | RegExp, opts?: number | WaitOptions): Promise<Match>;
  interrupt(): Promise<void>;
  finish(opts?: { timeoutMs?: number }): Promise<RunResult>;
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpClient {
  version: { major: number; minor: number; micro: number } | null;
  execute(command: string, args?: Record<string, unknown>, opts?: { timeoutMs?: number }): Promise<any>;
  readonly events: QmpEvent[];
  waitEvent(name: string, opts?: { timeoutMs?: number; predicate?: (e: QmpEvent) => boolean; fresh?: boolean }): Promise<QmpEvent>;
  close(): void;
}

export declare class ConsolePort {
  readonly path: string;
  readonly index: number;
  /** Every byte the guest wrote to the port. */
  readonly bytes: Buffer;
  /** The same as UTF-8 text. */
  readonly text: string;
  readonly closed: boolean;
  static connect(path: string, opts?: { index?: number; timeoutMs?: number }): Promise<ConsolePort>;
  write(data: string | Uint8Array): Promise<void>;
  /** What arrived since the last read()/waitFor(), consumed. */
  read(): string;
  waitFor(pattern: string | RegExp, opts?: number | { timeoutMs?: number }): Promise<Match>;
  close(): void;
}

export declare class Board {
  readonly name: string;
  /** The image booted (after start()). */
  readonly firmware: string | null;
  readonly disks: Array<{ path: string; id: string; readonly: boolean }>;
  readonly forwards: Forward[];
  static boot(opts?: BoardOptions): Promise<Board>;
  /** Boots in parallel; if one fails all are closed and its error thrown. */
  static bootAll(list: BoardOptions[]): Promise<Board[]>;
  constructor(opts?: BoardOptions);
  start(): Promise<this>;
  waitFor(pattern: string | RegExp, opts?: number | WaitOptions): Promise<Match>;
  run(line: string, opts?: { timeoutMs?: number; check?: boolean }): Promise<RunResult>;
  command(line: string, opts?: { timeoutMs?: number; check?: boolean }): Promise<RunResult>;
  begin(line: string): Promise<RunningCommand>;
  write(text: string): Promise<void>;
  interrupt(): Promise<void>;
  qmp(command: string, args?: Record<string, unknown>, opts?: { timeoutMs?: number }): Promise<any>;
  qmpClient(): Promise<QmpClient>;
  waitEvent(name: string, opts?: { timeoutMs?: number; predicate?: (e: QmpEvent) => boolean; fresh?: boolean }): Promise<QmpEvent>;
  console(index?: number): Promise<ConsolePort>;
  hostPort(guestPort: number, protocol?: "udp" | "tcp"): number;
  saveDisk(index: number, dest: string): string;
  poweroff(opts?: { timeoutMs?: number }): Promise<number | null>;
  /** SIGKILLs QEMU at once (a power cut: nothing flushed); resolves once it is gone. The temp dir stays until close(). */
  powerCut(): Promise<void>;
  /** SIGKILL and remove the temp dir now, synchronously (the harness's exit-hook kill). */
  killNow(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The harness underneath (tools/lib/qemu.mjs QemuMachine). */
  readonly machine: { readonly pid: number | null; readonly tempDir: string; [key: string]: any };
  readonly banner: string;
  readonly bootMs: number | null;
  readonly consoles: string[];
  readonly tempDir: string;
  readonly exit: { code: number | null; signal: string | null } | null;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly running: boolean;
  readonly commandLine: { binary: string; args: string[] } | null;
  /** The last 64 KiB of console output. */
  readonly transcript: string;
  /** The whole console log (its last 8 MiB). */
  readonly log: string;
}

export declare function withBoard<T>(opts: BoardOptions, fn: (board: Board) => T | Promise<T>): Promise<T>;
export declare function withBoards<T>(list: BoardOptions[], fn: (boards: Board[]) => T | Promise<T>): Promise<T>;
export declare function copyDisk(src: string, dest: string): string;
export declare function defaultFirmware(board?: string): string;
export declare function resolveFirmware(opts?: BoardOptions): Promise<string>;
export declare function freePort(protocol?: "udp" | "tcp"): Promise<number>;

export declare class QemuError extends Error {
  /** What the command printed before the failure. */
  output: string;
  /** The tail of the UART output. */
  transcript: string;
  exit: { code: number | null; signal: string | null } | null;
  /** The board's name, once a Board added its console lines to the message. */
  board?: string;
}
export declare class QemuTimeoutError extends QemuError {}
export declare class QemuExitError extends QemuError {}
export declare class QemuFatalError extends QemuError {}
export declare class QmpError extends Error {
  command: string;
  qmpError: { class: string; desc: string };
}
export declare const PROMPT: string;

export declare const SECTOR: 512;
export declare function crc32(bytes: Uint8Array, crc?: number): number;
export declare function crc32Hex(bytes: Uint8Array): string;
export declare function fileCrc32(path: string, lba?: number, count?: number): string;
export declare function pseudoRandomBytes(length: number, seed?: number): Uint8Array;
export declare function makeRandomImage(path: string, sizeBytes: number, seed?: number): string;
export declare function makeFilledImage(path: string, sizeBytes: number, byte?: number): string;
