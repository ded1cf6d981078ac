import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../errors.js";
import type { SnapshotFilter, SnapshotInfo, SnapshotKind, Usage } from "./snapshotter.js";

/**
 * One snapshot as the {@link SnapshotMetaStore} records it: the public {@link SnapshotInfo}
 * plus the numeric id a driver names its directories by.
 */
export interface SnapshotRecord extends SnapshotInfo {
  /** Numeric id, unique for the life of the store (ids are never reused). */
  id: number;
  /** Ids of the parent chain, nearest parent first, base last; empty for a base snapshot. */
  parentIds: number[];
  /** Usage recorded at commit; `undefined` for active and view snapshots. */
  usage?: Usage;
}

/** Options of {@link SnapshotMetaStore}'s constructor. */
export interface SnapshotMetaStoreOptions {
  /** File name of the database inside the root; default `metadata.db`. */
  fileName?: string;
  /** How long a writer waits for another process's transaction, in ms; default 10000. */
  busyTimeoutMs?: number;
}

interface Row {
  id: number;
  key: string;
  kind: SnapshotKind;
  parent_id: number | null;
  parent_key: string | null;
  labels: string;
  created: number;
  updated: number;
  size: number | null;
  inodes: number | null;
}

const SCHEMA_VERSION = 1;

// AUTOINCREMENT keeps ids from being reused: a driver may still be deleting the directory
// of a removed snapshot when a new one is created.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  key       TEXT NOT NULL UNIQUE,
  kind      TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
  parent_id INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT,
  labels    TEXT NOT NULL DEFAULT '{}',
  created   INTEGER NOT NULL,
  updated   INTEGER NOT NULL,
  size      INTEGER,
  inodes    INTEGER
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id);
`;

const SELECT = `SELECT s.*, p.key AS parent_key FROM snapshots s
  LEFT JOIN snapshots p ON p.id = s.parent_id`;

/**
 * The bookkeeping half of a snapshotter (containerd's `storage.MetaStore`), kept in one
 * SQLite database file in the driver's root, so that a driver only manages directories.
 *
 * It records each snapshot's kind, key, parent, labels, times and (once committed) usage,
 * and hands out a numeric id per snapshot for the driver to name its directory by. It
 * enforces the contract's lifecycle rules: a key is used once, parents are committed,
 * commit consumes an active key, and a snapshot with children cannot be removed.
 *
 * Several processes may share the file: it runs in WAL mode with a busy timeout, and every
 * change is one `BEGIN IMMEDIATE` transaction, so a check and the change it guards cannot
 * interleave with another writer. Methods are synchronous (better-sqlite3) and short.
 *
 * A driver typically records first and builds directories second, undoing the record when
 * the directory work fails:
 * ```ts
 * const rec = meta.create("active", key, parent);          // throws per the contract
 * try { await copyTree(dirOf(rec.parentIds[0]), dirOf(rec.id)); }
 * catch (err) { meta.remove(key); throw err; }
 * ```
 * A record that exists before its directory also protects the parent: it cannot be
 * removed while the child's directory is still being built.
 */
export class SnapshotMetaStore {
  /** Absolute path of the database file. */
  readonly file: string;
  private db: Database.Database | undefined;

  /**
   * Open (creating when missing) the store in `root`, which is created if needed.
   * @throws Error from SQLite when the file cannot be opened or is not a strata store.
   */
  constructor(root: string, opts: SnapshotMetaStoreOptions = {}) {
    fs.mkdirSync(root, { recursive: true });
    this.file = path.resolve(root, opts.fileName ?? "metadata.db");
    const timeout = opts.busyTimeoutMs ?? 10_000;
    const db = new Database(this.file, { timeout });
    try {
      db.pragma(`busy_timeout = ${timeout}`);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      db.transaction(() => {
        const version = db.pragma("user_version", { simple: true }) as number;
        if (version > SCHEMA_VERSION) {
          throw new FailedPreconditionError(
            `snapshot store "${this.file}": schema version ${version} is newer than ${SCHEMA_VERSION}`,
          );
        }
        db.exec(SCHEMA);
        if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  /**
   * Record a new active or view snapshot `key` on committed `parent` (or none).
   * @returns the new record, with its id and the parent chain's ids.
   * @throws InvalidArgumentError when `key` is empty or `parent` is not committed.
   * @throws AlreadyExistsError when `key` is taken by any snapshot.
   * @throws NotFoundError when `parent` does not exist.
   */
  create(
    kind: "active" | "view",
    key: string,
    parent?: string,
    opts: { labels?: Record<string, string> } = {},
  ): SnapshotRecord {
    checkKey(key);
    return this.write(() => {
      if (this.row(key)) throw new AlreadyExistsError(`snapshot "${key}": already exists`);
      let parentId: number | null = null;
      if (parent !== undefined && parent !== "") {
        const p = this.row(parent);
        if (!p) throw new NotFoundError(`parent snapshot "${parent}": not found`);
        if (p.kind !== "committed") {
          throw new InvalidArgumentError(
            `parent snapshot "${parent}": is ${p.kind}, not committed`,
          );
        }
        parentId = p.id;
      }
      const now = Date.now();
      const res = this.conn
        .prepare(
          `INSERT INTO snapshots (key, kind, parent_id, labels, created, updated)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(key, kind, parentId, JSON.stringify(opts.labels ?? {}), now, now);
      return this.record(this.rowById(Number(res.lastInsertRowid)));
    });
  }

  /**
   * The record of snapshot `key` (any kind).
   * @throws NotFoundError when it does not exist.
   */
  get(key: string): SnapshotRecord {
    const row = this.row(key);
    if (!row) throw new NotFoundError(`snapshot "${key}": not found`);
    return this.record(row);
  }

  /** The record of snapshot `key`, or `undefined` when it does not exist. */
  find(key: string): SnapshotRecord | undefined {
    const row = this.row(key);
    return row ? this.record(row) : undefined;
  }

  /**
   * The public information of snapshot `key`, as `Snapshotter.stat` returns it.
   * @throws NotFoundError when it does not exist.
   */
  info(key: string): SnapshotInfo {
    return toInfo(this.get(key));
  }

  /**
   * Turn active snapshot `key` into committed snapshot `name`, keeping its id, and store
   * `usage` with it. `key` no longer exists afterwards. The active snapshot's labels are
   * carried over, merged with `opts.labels`.
   * @returns the committed record.
   * @throws NotFoundError when `key` does not exist.
   * @throws FailedPreconditionError when `key` is a view or already committed.
   * @throws AlreadyExistsError when `name` is taken (also by `key` itself).
   * @throws InvalidArgumentError when `name` is empty.
   */
  commit(
    name: string,
    key: string,
    usage: Usage,
    opts: { labels?: Record<string, string> } = {},
  ): SnapshotRecord {
    checkKey(name);
    return this.write(() => {
      const row = this.row(key);
      if (!row) throw new NotFoundError(`snapshot "${key}": not found`);
      if (row.kind !== "active") {
        throw new FailedPreconditionError(`snapshot "${key}": is ${row.kind}, not active`);
      }
      if (this.row(name)) {
        throw new AlreadyExistsError(`snapshot "${name}": already exists`);
      }
      const labels = { ...parseLabels(row.labels), ...(opts.labels ?? {}) };
      const now = Date.now();
      this.conn
        .prepare(
          `UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, created = ?, updated = ?,
             size = ?, inodes = ? WHERE id = ?`,
        )
        .run(name, JSON.stringify(labels), now, now, usage.size, usage.inodes, row.id);
      return this.record(this.rowById(row.id));
    });
  }

  /**
   * Delete the record of snapshot `key` (any kind). The caller deletes its directory.
   * @returns the removed record (its id names the directory to delete).
   * @throws NotFoundError when it does not exist.
   * @throws FailedPreconditionError while other snapshots have it as parent.
   */
  remove(key: string): SnapshotRecord {
    return this.write(() => {
      const row = this.row(key);
      if (!row) throw new NotFoundError(`snapshot "${key}": not found`);
      const children = this.conn
        .prepare<[number], { key: string }>("SELECT key FROM snapshots WHERE parent_id = ?")
        .all(row.id);
      if (children.length > 0) {
        const names = children.map((c) => `"${c.key}"`).join(", ");
        throw new FailedPreconditionError(
          `snapshot "${key}": cannot remove: it is the parent of ${children.length} snapshot(s) (${names})`,
        );
      }
      const rec = this.record(row);
      this.conn.prepare("DELETE FROM snapshots WHERE id = ?").run(row.id);
      return rec;
    });
  }

  /**
   * Change the labels of snapshot `key`: merge `labels` into the existing ones, or replace
   * them all with `opts.replace`. An empty-string value deletes a label when merging.
   * @returns the updated information.
   * @throws NotFoundError when it does not exist.
   */
  updateLabels(
    key: string,
    labels: Record<string, string>,
    opts: { replace?: boolean } = {},
  ): SnapshotInfo {
    return this.write(() => {
      const row = this.row(key);
      if (!row) throw new NotFoundError(`snapshot "${key}": not found`);
      const next = opts.replace ? { ...labels } : { ...parseLabels(row.labels), ...labels };
      if (!opts.replace) for (const [k, v] of Object.entries(labels)) if (v === "") delete next[k];
      this.conn
        .prepare("UPDATE snapshots SET labels = ?, updated = ? WHERE id = ?")
        .run(JSON.stringify(next), Date.now(), row.id);
      return toInfo(this.record(this.rowById(row.id)));
    });
  }

  /** Every record matching `filter` (all kinds and parents when unset), ordered by id. */
  list(filter: SnapshotFilter = {}): SnapshotRecord[] {
    const rows = this.conn.prepare<[], Row>(`${SELECT} ORDER BY s.id`).all();
    const parentOf = new Map(rows.map((r) => [r.id, r.parent_id]));
    return rows
      .filter((r) => !filter.kinds || filter.kinds.includes(r.kind))
      .filter((r) => filter.parent === undefined || (r.parent_key ?? "") === filter.parent)
      .map((r) => this.record(r, chainOf(r.parent_id, parentOf)));
  }

  /**
   * Call `fn` with the information of every snapshot matching `filter`, one at a time.
   * The set is read once, before the first call, so `fn` may change the store.
   */
  async walk(
    fn: (info: SnapshotInfo) => void | Promise<void>,
    filter?: SnapshotFilter,
  ): Promise<void> {
    for (const rec of this.list(filter)) await fn(toInfo(rec));
  }

  /** Ids of all recorded snapshots (a driver uses them to find orphaned directories). */
  ids(): Set<number> {
    const rows = this.conn.prepare<[], { id: number }>("SELECT id FROM snapshots").all();
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Run `fn` as one write transaction (`BEGIN IMMEDIATE`), for drivers that need several
   * metadata changes to happen together. `fn` must be synchronous; when it throws, nothing
   * it changed is kept. Calls nest (inner ones become savepoints).
   */
  transaction<T>(fn: () => T): T {
    return this.write(fn);
  }

  /** Close the database. Idempotent; other methods fail afterwards. */
  close(): void {
    const db = this.db;
    this.db = undefined;
    db?.close();
  }

  private get conn(): Database.Database {
    if (!this.db) throw new FailedPreconditionError(`snapshot store "${this.file}": closed`);
    return this.db;
  }

  private write<T>(fn: () => T): T {
    const db = this.conn;
    const tx = db.transaction(fn);
    return db.inTransaction ? tx() : tx.immediate();
  }

  private row(key: string): Row | undefined {
    return this.conn.prepare<[string], Row>(`${SELECT} WHERE s.key = ?`).get(key);
  }

  private rowById(id: number): Row {
    const row = this.conn.prepare<[number], Row>(`${SELECT} WHERE s.id = ?`).get(id);
    if (!row) throw new NotFoundError(`snapshot #${id}: not found`);
    return row;
  }

  private parentChain(parentId: number | null): number[] {
    if (parentId === null) return [];
    const rows = this.conn
      .prepare<[number], { id: number }>(
        `WITH RECURSIVE chain(id, parent_id, depth) AS (
           SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
           UNION ALL
           SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s JOIN chain c ON s.id = c.parent_id
         ) SELECT id FROM chain ORDER BY depth`,
      )
      .all(parentId);
    return rows.map((r) => r.id);
  }

  private record(row: Row, parentIds?: number[]): SnapshotRecord {
    const rec: SnapshotRecord = {
      id: row.id,
      kind: row.kind,
      name: row.key,
      labels: parseLabels(row.labels),
      created: new Date(row.created),
      updated: new Date(row.updated),
      parentIds: parentIds ?? this.parentChain(row.parent_id),
    };
    if (row.parent_key !== null) rec.parent = row.parent_key;
    if (row.size !== null && row.inodes !== null) {
      rec.usage = { size: row.size, inodes: row.inodes };
    }
    return rec;
  }
}

/** The public part of a record. */
function toInfo(rec: SnapshotRecord): SnapshotInfo {
  const info: SnapshotInfo = {
    kind: rec.kind,
    name: rec.name,
    labels: { ...rec.labels },
    created: rec.created,
    updated: rec.updated,
  };
  if (rec.parent !== undefined) info.parent = rec.parent;
  return info;
}

function chainOf(parentId: number | null, parentOf: Map<number, number | null>): number[] {
  const out: number[] = [];
  for (let id = parentId; id !== null && id !== undefined; id = parentOf.get(id) ?? null) {
    out.push(id);
  }
  return out;
}

function parseLabels(json: string): Record<string, string> {
  return JSON.parse(json) as Record<string, string>;
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key === "") {
    throw new InvalidArgumentError(
      `snapshot key ${JSON.stringify(key)}: must be a non-empty string`,
    );
  }
}
