import * as fs from "node:fs";

/** Prefix of AUFS whiteouts: `.wh.<name>` hides `<name>` in the branches below. */
export const WHITEOUT_PREFIX = ".wh.";
/** Prefix of AUFS's own names (`.wh..wh.opq`, `.wh..wh.plnk`, …); never shown. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";
/** A directory holding this file hides the directories of the same path below it. */
export const OPAQUE_MARKER = ".wh..wh..opq";

/** One branch of a union: a directory, writable or not. Branch 0 is the top. */
export interface Branch {
  root: string;
  rw: boolean;
}

/** What `kind` finds for a name in one branch. */
const Kind = { None: 0, Other: 1, Dir: 2 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * A visible entry of the union, as the branches resolve it. Entries are cached by path
 * and dropped ({@link UnionTree.forget}) whenever a change in the writable branch may
 * change how the path resolves.
 */
export interface UnionEntry {
  /** Index of the topmost branch holding the entry. */
  top: number;
  /** Whether the entry is a directory. */
  dir: boolean;
  /**
   * For a directory: the branches whose directories merge into it, top first; the list
   * stops at a branch where the directory is opaque or where a whiteout hides the rest.
   * Empty for anything else.
   */
  dirs: number[];
  /** `lstat` of the entry in its top branch, kept when that branch is read-only. */
  stat?: fs.Stats;
  /** Merged names of a directory that no writable branch contributes to. */
  names?: string[];
  /** A directory's inode number: its lowest branch's, so it survives copy-up. */
  dirIno?: number;
}

/** `/a` + `b` → `/a/b`, with `/` as the root. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** `/a/b` → [`/a`, `b`]; `/a` → [`/`, `a`]. */
export function splitPath(p: string): [string, string] {
  const i = p.lastIndexOf("/");
  return [i <= 0 ? "/" : p.slice(0, i), p.slice(i + 1)];
}

/** An `Error` carrying a negative errno, as FUSE handlers answer. */
export class FsError extends Error {
  constructor(
    readonly errno: number,
    message?: string,
  ) {
    super(message ?? `errno ${-errno}`);
  }
}

/** Negative errno values the union answers with. */
export const Errno = {
  EPERM: -1,
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EEXIST: -17,
  EXDEV: -18,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EROFS: -30,
  ERANGE: -34,
  ENOTEMPTY: -39,
  ENODATA: -61,
  ENOTSUP: -95,
} as const;

/** The negative errno of a thrown filesystem error (EIO when it has none). */
export function errnoOf(err: unknown): number {
  const n = (err as { errno?: unknown } | undefined)?.errno;
  return typeof n === "number" && n < 0 ? n : Errno.EIO;
}

/** Bound on cached entries; the cache is emptied when it grows past it. */
const MAX_ENTRIES = 262_144;

/**
 * The read side of an AUFS union: how a path resolves over the branches (top first).
 *
 * - A name is looked up branch by branch, following the parent directory's own branches.
 *   The first branch holding it decides: a non-directory there is the entry; a directory
 *   merges with the directories of the same path below, until a branch where it is
 *   opaque (holds `.wh..wh..opq`) or a non-directory or a whiteout stops the merge.
 * - `.wh.<name>` in a branch hides `<name>` in the branches below it (not in its own).
 * - Names starting with `.wh.` are never visible.
 *
 * Read-only branches never change while mounted, so their directory listings and the
 * `lstat` of their entries are cached for good; the writable branch (index 0 when
 * `branches[0].rw`) is asked each time (one `lstat` per name), since its state is what
 * the union's own writes change.
 */
export class UnionTree {
  /** Whether branch 0 is writable. */
  readonly rw: boolean;
  /**
   * Inode numbers shown for files of the writable branch that were copied up from a file
   * no other name shared: the origin's (AUFS's "xino"). The kernel keeps caching the number
   * it saw before the copy-up, and a hardlink made to the copy must show the same one.
   */
  private readonly xino = new Map<number, number>();
  /** Told of every change to the shown inode numbers (the native data path mirrors them). */
  onXino: (backing: number, shown: number) => void = () => {};
  private readonly entries = new Map<string, UnionEntry>();
  /** Directories only one branch holds, told to {@link onPassthrough}. */
  private readonly passthrough = new Set<string>();
  /**
   * Told when directory `p` becomes a passthrough (`branchDir`: the one branch directory
   * that holds it; its children resolve by plain lookup there) or stops being one
   * (`undefined`; with `tree`, everything below `p` too). The native helper then answers
   * its children's getattr and its readdir on libfuse's thread; in a directory only the
   * writable branch holds (`writable`) it also creates files.
   */
  onPassthrough: (
    p: string,
    branchDir: string | undefined,
    tree: boolean,
    writable: boolean,
  ) => void = () => {};
  private readonly listings: Map<string, Map<string, boolean> | null>[];

  constructor(readonly branches: readonly Branch[]) {
    if (branches.length === 0) throw new Error("aufs: a union needs at least one branch");
    if (branches.slice(1).some((b) => b.rw)) {
      throw new Error("aufs: only the top branch may be writable");
    }
    this.rw = branches[0]!.rw;
    this.listings = branches.map(() => new Map());
  }

  /** Absolute path of `p` (a union path, `/…`) inside branch `i`. */
  abs(i: number, p: string): string {
    return p === "/" ? `${this.branches[i]!.root}/` : this.branches[i]!.root + p;
  }

  /** Whether `i` is the writable branch. */
  isRw(i: number): boolean {
    return i === 0 && this.rw;
  }

  /** The visible entry at `p`, or undefined when nothing is visible there. */
  lookup(p: string): UnionEntry | undefined {
    const hit = this.entries.get(p);
    if (hit) return hit;
    let e: UnionEntry | undefined;
    if (p === "/") {
      e = { top: 0, dir: true, dirs: [] };
      for (let i = 0; i < this.branches.length; i++) {
        e.dirs.push(i);
        if (this.opaque(i, "/")) break;
      }
    } else {
      const [parent, name] = splitPath(p);
      if (name.startsWith(WHITEOUT_PREFIX)) return undefined;
      const pe = this.lookup(parent);
      if (!pe?.dir) return undefined;
      e = this.resolveChild(pe, parent, name);
    }
    if (e) {
      if (this.entries.size >= MAX_ENTRIES) this.clear();
      this.entries.set(p, e);
      // One branch holds the directory (a read-only one, or only the writable one: made
      // through the union, or opaque there): its children resolve by plain lookup there.
      const only = e.dirs.length === 1 ? e.dirs[0]! : -1;
      if (e.dir && only >= 0 && p !== "/") {
        this.passthrough.add(p);
        this.onPassthrough(p, this.abs(only, p), false, this.isRw(only));
      }
    }
    return e;
  }

  private resolveChild(pe: UnionEntry, parent: string, name: string): UnionEntry | undefined {
    let found: UnionEntry | undefined;
    const p = childPath(parent, name);
    for (const i of pe.dirs) {
      const k = this.kind(i, parent, name);
      if (k !== Kind.None) {
        if (k === Kind.Other) return found ?? { top: i, dir: false, dirs: [] };
        if (found) found.dirs.push(i);
        else found = { top: i, dir: true, dirs: [i] };
        if (this.opaque(i, p)) return found;
      }
      if (this.kind(i, parent, WHITEOUT_PREFIX + name) !== Kind.None) return found;
    }
    return found;
  }

  /**
   * What lies below the writable branch at `parent/name`: 2 for a directory, 1 for anything
   * else, 0 for nothing (or when the writable branch hides it with a whiteout or an opaque
   * parent). Tells whether removing the writable branch's entry needs a whiteout.
   */
  lowerKind(parent: string, name: string): 0 | 1 | 2 {
    const pe = this.lookup(parent);
    if (!pe?.dir) return 0;
    for (const i of pe.dirs) {
      if (this.isRw(i)) {
        if (this.kind(i, parent, WHITEOUT_PREFIX + name) !== Kind.None) return 0;
        continue;
      }
      const k = this.kind(i, parent, name);
      if (k !== Kind.None) return k;
      if (this.kind(i, parent, WHITEOUT_PREFIX + name) !== Kind.None) return 0;
    }
    return 0;
  }

  /** Whether the directory `dir` of branch `i` is opaque. */
  opaque(i: number, dir: string): boolean {
    return this.kind(i, dir, OPAQUE_MARKER) !== Kind.None;
  }

  /** What branch `i` holds at `dir/name`. */
  private kind(i: number, dir: string, name: string): Kind {
    if (this.isRw(i)) {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(this.abs(i, childPath(dir, name)), { throwIfNoEntry: false });
      } catch {
        return Kind.None; // ENOTDIR and the like: nothing there
      }
      return st ? (st.isDirectory() ? Kind.Dir : Kind.Other) : Kind.None;
    }
    const d = this.listing(i, dir)?.get(name);
    return d === undefined ? Kind.None : d ? Kind.Dir : Kind.Other;
  }

  /** A read-only branch's directory listing (name → is a directory), cached. */
  private listing(i: number, dir: string): Map<string, boolean> | null {
    const cache = this.listings[i]!;
    let m = cache.get(dir);
    if (m !== undefined) return m;
    try {
      m = new Map();
      for (const d of fs.readdirSync(this.abs(i, dir), { withFileTypes: true })) {
        m.set(d.name, d.isDirectory());
      }
    } catch {
      m = null;
    }
    cache.set(dir, m);
    return m;
  }

  /** `lstat` of entry `e` at `p` in its top branch (cached for read-only branches). */
  stat(p: string, e: UnionEntry): fs.Stats {
    if (e.stat) return e.stat;
    const st = fs.lstatSync(this.abs(e.top, p));
    if (!this.isRw(e.top)) e.stat = st;
    return st;
  }

  /** The inode number a non-directory shows (its origin's after a copy-up). */
  fileIno(e: UnionEntry, st: fs.Stats): number {
    return this.isRw(e.top) ? this.shownIno(st.ino) : st.ino;
  }

  /** The inode number shown for backing inode `ino` of the writable branch. */
  shownIno(ino: number): number {
    return this.xino.get(ino) ?? ino;
  }

  /** Show `origin` for the writable branch's backing inode `copy` (made by a copy-up). */
  setXino(copy: number, origin: number): void {
    this.xino.set(copy, origin);
    this.onXino(copy, origin);
  }

  /** Drop the shown inode number of a writable-branch file about to lose its last name. */
  dropXino(st: fs.Stats | undefined): void {
    if (st && st.nlink <= 1 && !st.isDirectory() && this.xino.delete(st.ino)) {
      this.onXino(st.ino, 0);
    }
  }

  /** The inode number a directory shows: its lowest branch's, so copy-up keeps it. */
  dirIno(p: string, e: UnionEntry, top: fs.Stats): number {
    const lowest = e.dirs[e.dirs.length - 1] ?? e.top;
    if (lowest === e.top) return top.ino;
    e.dirIno ??= fs.lstatSync(this.abs(lowest, p)).ino;
    return e.dirIno;
  }

  /** The merged names of directory `p` (no `.` or `..`), whiteouts applied. */
  readdir(p: string, e: UnionEntry): string[] {
    if (e.names) return e.names;
    const names = new Set<string>();
    const hidden = new Set<string>();
    for (const i of e.dirs) {
      const list: Iterable<string> = this.isRw(i)
        ? fs.readdirSync(this.abs(i, p))
        : (this.listing(i, p)?.keys() ?? []);
      const whiteouts: string[] = [];
      for (const name of list) {
        if (name.startsWith(WHITEOUT_PREFIX)) {
          if (!name.startsWith(WHITEOUT_META_PREFIX)) {
            whiteouts.push(name.slice(WHITEOUT_PREFIX.length));
          }
          continue;
        }
        if (!hidden.has(name)) names.add(name);
      }
      for (const w of whiteouts) hidden.add(w);
    }
    const out = [...names];
    if (!e.dirs.some((i) => this.isRw(i))) e.names = out;
    return out;
  }

  /**
   * Forget what is known about `p` (after a change that may resolve it differently). The
   * native side is told every time: it registers passthrough directories below the ones it
   * was told of by itself, which this side does not know.
   */
  forget(p: string): void {
    this.entries.delete(p);
    this.passthrough.delete(p);
    this.onPassthrough(p, undefined, false, false);
  }

  /** Forget `p` and everything below it. */
  forgetTree(p: string): void {
    this.entries.delete(p);
    const prefix = p === "/" ? "/" : `${p}/`;
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
    this.passthrough.delete(p);
    for (const k of this.passthrough) if (k.startsWith(prefix)) this.passthrough.delete(k);
    this.onPassthrough(p, undefined, true, false); // always: see forget
  }

  private clear(): void {
    this.entries.clear();
    this.passthrough.clear();
    this.onPassthrough("/", undefined, true, false);
  }
}
