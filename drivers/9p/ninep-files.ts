// The app-facing files API over one 9P session, in the shape of ECMA-419's
// embedded:storage/files where it fits (openFile / openDirectory-style listing / status /
// delete / rename / createDirectory; a File with read / write / status / flush / close),
// with promises since every call is a round trip to the host. Paths are "/"-separated
// from the attached root; "." and ".." are refused (9P walks them, but the host's
// export is the root here).

import type { NinepClient } from "./ninep-client.js";
import { ROOT_FID } from "./ninep-client.js";
import { NinepClosedError, NinepError } from "./errors.js";
import * as op from "./ninep-ops.js";
import { AT_REMOVEDIR, MAX_WALK_NAMES, OpenFlag, QTDIR, S_IFDIR } from "./ninep-spec.js";

export type OpenMode = "r" | "r+" | "w" | "w+" | "a";

export interface OpenFileOptions {
  readonly path: string;
  /** "r" read (default), "r+" read and write, "w" create or truncate, "w+" the same
   * readable too, "a" create and append. */
  readonly mode?: OpenMode;
}

export interface FileStatus {
  readonly type: "file" | "directory";
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
}

export interface DirectoryEntry {
  readonly name: string;
  readonly type: "file" | "directory" | "other";
}

const FLAGS: Readonly<Record<OpenMode, number>> = {
  r: OpenFlag.RDONLY,
  "r+": OpenFlag.RDWR,
  w: OpenFlag.WRONLY | OpenFlag.TRUNC,
  "w+": OpenFlag.RDWR | OpenFlag.TRUNC,
  a: OpenFlag.WRONLY | OpenFlag.APPEND,
};

/** Parts of a path, checked. */
export function splitPath(path: string): string[] {
  if (typeof path !== "string") throw new TypeError("path must be a string");
  const parts = path.split("/").filter((p) => p !== "");
  for (const p of parts) if (p === "." || p === "..") throw new RangeError(`path ${JSON.stringify(path)}: "." and ".." are not allowed`);
  return parts;
}

export class NinepFiles {
  readonly #client: NinepClient;
  #nextFid = ROOT_FID + 1;
  readonly #freeFids: number[] = [];

  constructor(client: NinepClient) {
    this.#client = client;
  }

  get client(): NinepClient {
    return this.#client;
  }

  /** @internal a fid not in use in this session. */
  takeFid(): number {
    return this.#freeFids.pop() ?? this.#nextFid++;
  }

  /** @internal gives back a fid after Tclunk (or a walk that made none). */
  releaseFid(fid: number): void {
    this.#freeFids.push(fid);
  }

  /** @internal walks from the root to `parts`; the new fid, or a NinepError (ENOENT). */
  async walkTo(parts: readonly string[], path: string): Promise<number> {
    const fid = this.takeFid();
    let from = ROOT_FID;
    let i = 0;
    try {
      do {
        const names = parts.slice(i, i + MAX_WALK_NAMES);
        const qids = await op.walk(this.#client, from, fid, names, path);
        if (qids.length < names.length) {
          // A partial walk leaves newfid as it was (9P): on the first step, not made.
          throw new NinepError("Twalk", 2, path); // ENOENT

        }
        from = fid;
        i += names.length;
      } while (i < parts.length);
      return fid;
    } catch (error) {
      if (from === fid) await op.clunk(this.#client, fid, path).catch(() => {});
      this.releaseFid(fid);
      throw error;
    }
  }

  async #clunk(fid: number, path: string): Promise<void> {
    try {
      await op.clunk(this.#client, fid, path);
    } finally {
      this.releaseFid(fid);
    }
  }

  /** Runs `body` on a fid walked to `path`, clunked afterwards. */
  async #with<T>(path: string, body: (fid: number) => Promise<T>): Promise<T> {
    const fid = await this.walkTo(splitPath(path), path);
    try {
      return await body(fid);
    } finally {
      await this.#clunk(fid, path).catch(() => {});
    }
  }

  /** Walks to an existing file and opens it with Tlopen. */
  async #open(parts: readonly string[], flags: number, path: string): Promise<NinepFile> {
    const fid = await this.walkTo(parts, path);
    try {
      const { iounit } = await op.lopen(this.#client, fid, flags, path);
      return new NinepFile(this, fid, path, iounit);
    } catch (error) {
      await this.#clunk(fid, path).catch(() => {});
      throw error;
    }
  }

  async openFile(options: OpenFileOptions): Promise<NinepFile> {
    await this.#client.ready();
    const path = options.path;
    const mode = options.mode ?? "r";
    const flags = FLAGS[mode];
    if (flags === undefined) throw new RangeError(`mode ${String(mode)} must be one of r, r+, w, w+, a`);
    const parts = splitPath(path);
    if (parts.length === 0) throw new RangeError("cannot open the root directory as a file");
    const creates = mode !== "r" && mode !== "r+";
    if (!creates) return this.#open(parts, flags, path);
    // Create if missing: walk to the parent and Tlcreate there; if it exists, open it.
    const name = parts[parts.length - 1]!;
    try {
      return await this.#open(parts, flags, path);
    } catch (error) {
      if (!(error instanceof NinepError) || error.errno !== 2) throw error; // ENOENT: create it
    }
    const dir = await this.walkTo(parts.slice(0, -1), path);
    try {
      const { iounit } = await op.lcreate(this.#client, dir, name, flags | OpenFlag.CREAT, 0o644, path);
      return new NinepFile(this, dir, path, iounit);
    } catch (error) {
      await this.#clunk(dir, path).catch(() => {});
      throw error;
    }
  }

  async status(path: string): Promise<FileStatus> {
    await this.#client.ready();
    return this.#with(path, async (fid) => {
      const a = await op.getattr(this.#client, fid, path);
      return { type: (a.qid.type & QTDIR) !== 0 ? "directory" : "file", size: a.size, mode: a.mode, mtimeMs: a.mtimeMs };
    });
  }

  /** The entries of a directory ("." and ".." left out), in the server's order. */
  async readDirectory(path: string): Promise<DirectoryEntry[]> {
    await this.#client.ready();
    return this.#with(path, async (fid) => {
      await op.lopen(this.#client, fid, OpenFlag.RDONLY | OpenFlag.DIRECTORY, path);
      const out: DirectoryEntry[] = [];
      let offset = 0n;
      for (;;) {
        const entries = await op.readdir(this.#client, fid, offset, path);
        if (entries.length === 0) return out;
        for (const e of entries) {
          offset = e.offset;
          if (e.name === "." || e.name === "..") continue;
          out.push({ name: e.name, type: e.type === 4 ? "directory" : e.type === 8 ? "file" : "other" });
        }
      }
    });
  }

  async createDirectory(path: string): Promise<void> {
    const parts = splitPath(path);
    if (parts.length === 0) throw new RangeError("the root directory exists");
    await this.#client.ready();
    await this.#with("/" + parts.slice(0, -1).join("/"), (dir) => op.mkdir(this.#client, dir, parts[parts.length - 1]!, 0o755, path));
  }

  /** Deletes a file or an empty directory. */
  async delete(path: string): Promise<void> {
    const parts = splitPath(path);
    if (parts.length === 0) throw new RangeError("cannot delete the root directory");
    const st = await this.status(path);
    const flags = st.type === "directory" ? AT_REMOVEDIR : 0;
    await this.#with("/" + parts.slice(0, -1).join("/"), (dir) => op.unlinkat(this.#client, dir, parts[parts.length - 1]!, flags, path));
  }

  async rename(from: string, to: string): Promise<void> {
    const a = splitPath(from);
    const b = splitPath(to);
    if (a.length === 0 || b.length === 0) throw new RangeError("cannot rename the root directory");
    await this.#client.ready();
    await this.#with("/" + a.slice(0, -1).join("/"), (oldDir) =>
      this.#with("/" + b.slice(0, -1).join("/"), (newDir) => op.renameat(this.#client, oldDir, a[a.length - 1]!, newDir, b[b.length - 1]!, from)));
  }

  /** The whole file (parallel reads of one message each). */
  async readFile(path: string): Promise<Uint8Array> {
    const file = await this.openFile({ path });
    try {
      const { size } = await file.status();
      const data = new Uint8Array(size);
      const got = await file.read(data, 0);
      return got === size ? data : data.subarray(0, got);
    } finally {
      await file.close();
    }
  }

  /** Creates or replaces a file with `data`. */
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const file = await this.openFile({ path, mode: "w" });
    try {
      await file.write(data, 0);
      await file.flush();
    } finally {
      await file.close();
    }
  }
}

/** One open file (a fid after Tlopen / Tlcreate). */
export class NinepFile {
  readonly #files: NinepFiles;
  readonly #fid: number;
  readonly #generation: number;
  readonly path: string;
  /** Bytes per Tread/Twrite the server suggests (0: msize decides). */
  readonly iounit: number;
  #closed = false;

  constructor(files: NinepFiles, fid: number, path: string, iounit: number) {
    this.#files = files;
    this.#fid = fid;
    this.path = path;
    this.iounit = iounit;
    this.#generation = files.client.generation;
  }

  #check(): void {
    if (this.#closed) throw new NinepClosedError(`file ${this.path}`);
  }

  /** Reads into `buffer` from byte `position`; several requests in flight. Resolves to
   * the bytes read (fewer at the end of the file). */
  async read(buffer: Uint8Array, position: number): Promise<number> {
    this.#check();
    const c = this.#files.client;
    const chunk = Math.max(1, op.ioLimit(c, false));
    const parts: Promise<number>[] = [];
    for (let at = 0; at < buffer.length; at += chunk) {
      const n = Math.min(chunk, buffer.length - at);
      parts.push(op.read(c, this.#fid, position + at, buffer, at, n, this.path));
    }
    const counts = await Promise.all(parts);
    let total = 0;
    for (let i = 0; i < counts.length; i++) {
      total += counts[i]!;
      if (counts[i]! < Math.min(chunk, buffer.length - i * chunk)) break; // end of file
    }
    return total;
  }

  /** Writes all of `data` at byte `position`, split by msize, several requests in flight
   * (a short Rwrite is continued). */
  async write(data: Uint8Array, position: number): Promise<number> {
    this.#check();
    const c = this.#files.client;
    const chunk = op.ioLimit(c, true);
    const one = async (at: number, end: number): Promise<void> => {
      while (at < end) {
        const n = await op.write(c, this.#fid, position + at, data.subarray(at, end), this.path);
        if (n === 0) throw new RangeError(`${this.path}: server wrote 0 bytes at ${position + at}`);
        at += n;
      }
    };
    const parts: Promise<void>[] = [];
    for (let at = 0; at < data.length; at += chunk) parts.push(one(at, Math.min(at + chunk, data.length)));
    await Promise.all(parts);
    return data.length;
  }

  async status(): Promise<FileStatus> {
    this.#check();
    const a = await op.getattr(this.#files.client, this.#fid, this.path);
    return { type: (a.mode & S_IFDIR) !== 0 && (a.qid.type & QTDIR) !== 0 ? "directory" : "file", size: a.size, mode: a.mode, mtimeMs: a.mtimeMs };
  }

  /** Tfsync: the host has the bytes on its disk. */
  async flush(): Promise<void> {
    this.#check();
    await op.fsync(this.#files.client, this.#fid, this.path);
  }

  /** Tclunk; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#files.client.generation !== this.#generation) return; // the session (and fid) is gone
    try {
      await op.clunk(this.#files.client, this.#fid, this.path);
    } finally {
      this.#files.releaseFid(this.#fid);
    }
  }
}
