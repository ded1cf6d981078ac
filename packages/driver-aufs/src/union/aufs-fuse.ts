import { createRequire } from "node:module";
import { Errno } from "./union-tree.js";

/** The part of fuse-native's `Fuse` class the server uses (the package ships no types). */
interface FuseBase {
  mount(cb: (err: Error | null) => void): void;
  readonly opts: { aufsOptions?: readonly string[] };
}
type Signal = (res: number, ...args: unknown[]) => void;
type FuseClass = new (
  mnt: string,
  ops: object,
  opts: { timeout: false; aufsOptions: readonly string[] },
) => FuseBase;

/** What the overridden handlers call on the operations object. */
interface Handlers {
  getattr(p: string, cb: (e: number, st?: Uint32Array) => void): void;
  getxattr(p: string, n: string, pos: number, cb: (e: number, v?: Buffer) => void): void;
  listxattr(p: string, cb: (e: number, v?: string[]) => void): void;
}

const EMPTY_STAT = new Uint32Array(18);

/**
 * Copy an xattr answer into libfuse's buffer: its length for a size query (an empty
 * buffer), ERANGE when it does not fit, the errno when there is none.
 */
function fill(err: number, value: Buffer | undefined, buf: Buffer): number {
  if (err < 0) return err;
  if (!value) return Errno.ENODATA;
  if (buf.length === 0) return value.length;
  if (value.length > buf.length) return Errno.ERANGE;
  value.copy(buf);
  return value.length;
}

const require = createRequire(import.meta.url);

/**
 * Build the {@link AufsFuse} class. fuse-native is loaded here, not at import: the native
 * helper must be loaded first (`loadAufsNative`), because libfuse is linked with BIND_NOW
 * and binds its own calls (fuse_reply_entry, …) when it is loaded: only an object already in
 * the lookup scope then can interpose them.
 */
export function aufsFuseClass(): FuseClass {
  const Fuse = require("fuse-native") as FuseClass;

  /**
   * fuse-native's `Fuse` with strata's mount options and three answers corrected:
   *
   * - `_fuseOptions` passes the options as given (fuse-native knows no `use_ino`,
   *   `big_writes`, `negative_timeout`, `suid`, `dev` or `ro`);
   * - `getattr` passes on the stat array {@link UnionOperations} builds (no per-call object);
   * - `getxattr` and `listxattr` answer ERANGE when the caller's buffer is too small, where
   *   fuse-native would report a length larger than the buffer it filled.
   *
   * The operations object is {@link UnionOperations}; the native helper takes over file
   * data before libfuse sees fuse-native's handlers.
   */
  class AufsFuse extends Fuse {
    /** Called by fuse-native when it mounts: `-o<options>`. */
    _fuseOptions(): string {
      return `-o${(this.opts.aufsOptions ?? []).join(",")}`;
    }

    _op_getattr(signal: Signal, path: string): void {
      this.handlers().getattr(path, (err: number, st?: Uint32Array) => {
        if (err === 0 && st) signal(0, st);
        else signal(err < 0 ? err : Errno.EIO, EMPTY_STAT);
      });
    }

    _op_fgetattr(signal: Signal, path: string): void {
      this._op_getattr(signal, path);
    }

    _op_getxattr(
      signal: Signal,
      path: string,
      name: string,
      valueBuf: Buffer,
      position: number,
    ): void {
      this.handlers().getxattr(path, name, position, (err: number, value?: Buffer) => {
        signal(fill(err, value, valueBuf), valueBuf.buffer);
      });
    }

    _op_listxattr(signal: Signal, path: string, listBuf: Buffer): void {
      this.handlers().listxattr(path, (err: number, list?: string[]) => {
        const bytes = list && Buffer.from(list.map((n) => `${n}\0`).join(""), "utf8");
        signal(fill(err, bytes, listBuf), listBuf.buffer);
      });
    }

    /** fuse-native keeps the operations object as `this.ops`. */
    private handlers(): Handlers {
      return (this as unknown as { ops: Handlers }).ops;
    }
  }
  return AufsFuse;
}
