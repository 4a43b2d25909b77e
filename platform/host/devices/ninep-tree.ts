// The host model's in-memory file tree: directories (a map of children) and files (a
// byte array), each with a qid path and version; helpers for tests to put and look at files.

export interface TreeNode {
  name: string;
  parent: TreeNode | null;
  /** Present for a directory. */
  children: Map<string, TreeNode> | null;
  data: Uint8Array;
  size: number;
  readonly path: bigint;
  version: number;
  mtimeSec: number;
}

export class NinepTree {
  #nextPath = 1n;
  readonly root: TreeNode = this.#node("", null, true);

  #node(name: string, parent: TreeNode | null, dir: boolean): TreeNode {
    return { name, parent, children: dir ? new Map() : null, data: new Uint8Array(0), size: 0, path: this.#nextPath++, version: 0, mtimeSec: 1_700_000_000 };
  }

  add(dir: TreeNode, name: string, isDir: boolean): TreeNode {
    const node = this.#node(name, dir, isDir);
    dir.children!.set(name, node);
    return node;
  }

  remove(node: TreeNode): void {
    node.parent?.children?.delete(node.name);
    node.parent = null;
  }

  move(node: TreeNode, to: TreeNode, name: string): void {
    const old = to.children!.get(name);
    if (old !== undefined && old !== node) this.remove(old);
    this.remove(node);
    node.name = name;
    node.parent = to;
    to.children!.set(name, node);
  }

  truncate(node: TreeNode): void {
    node.size = 0;
    node.version++;
  }

  read(node: TreeNode, offset: number, count: number): Uint8Array {
    if (offset >= node.size) return new Uint8Array(0);
    return node.data.slice(offset, Math.min(node.size, offset + count));
  }

  write(node: TreeNode, offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end > node.data.length) {
      const bigger = new Uint8Array(Math.max(end, node.data.length * 2));
      bigger.set(node.data.subarray(0, node.size));
      node.data = bigger;
    }
    if (offset > node.size) node.data.fill(0, node.size, offset);
    node.data.set(data, offset);
    node.size = Math.max(node.size, end);
    node.version++;
  }

  /** The node at `path` ("/a/b"), or undefined. */
  lookup(path: string): TreeNode | undefined {
    let node: TreeNode | undefined = this.root;
    for (const part of path.split("/").filter((p) => p !== "")) node = node?.children?.get(part);
    return node;
  }

  /** Test helper: creates `path` (and its directories) holding `data`. */
  put(path: string, data: Uint8Array | string): TreeNode {
    const parts = path.split("/").filter((p) => p !== "");
    let dir = this.root;
    for (const part of parts.slice(0, -1)) dir = dir.children!.get(part) ?? this.add(dir, part, true);
    const name = parts[parts.length - 1]!;
    const node = dir.children!.get(name) ?? this.add(dir, name, false);
    this.truncate(node);
    this.write(node, 0, typeof data === "string" ? new TextEncoder().encode(data) : data);
    return node;
  }

  /** Test helper: the bytes of the file at `path`. */
  get(path: string): Uint8Array | undefined {
    const node = this.lookup(path);
    return node && !node.children ? node.data.slice(0, node.size) : undefined;
  }
}
