import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { inject, injectable } from "tsyringe";
import { UnavailableError } from "../errors.js";
import { Tokens } from "../tokens.js";
import { MIGRATIONS } from "./migrations.js";

/** A handle on the metadata database, as `better-sqlite3` gives it. */
export type Db = Database.Database;

/**
 * The store's metadata: one SQLite database (`<root>/metadata.db`) holding images, tags,
 * layers, per-driver snapshot records and containers.
 *
 * Every change goes through {@link MetadataStore.write}, an `IMMEDIATE` transaction: it
 * takes SQLite's write lock up front, which is the store lock that keeps several `strata`
 * processes consistent (WAL lets readers go on meanwhile; writers wait up to `busy_timeout`).
 */
@injectable()
export class MetadataStore {
  readonly db: Db;

  constructor(@inject(Tokens.StoreRoot) root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    const file = path.join(root, "metadata.db");
    try {
      this.db = new Database(file, { timeout: 30_000 });
    } catch (err) {
      throw new UnavailableError(`metadata "${file}": cannot open: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
  }

  /** The schema version the database is at. */
  get schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  private migrate(): void {
    const apply = this.db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      let v = this.schemaVersion;
      for (; v < MIGRATIONS.length; v++) {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
    if (this.schemaVersion < MIGRATIONS.length) apply.immediate();
  }

  /** Run `fn` in a write (IMMEDIATE) transaction; it commits when `fn` returns, else rolls back. */
  write<T>(fn: (db: Db) => T): T {
    return this.db.transaction(() => fn(this.db)).immediate();
  }

  /** Run `fn` in a read transaction (a consistent snapshot of the database). */
  read<T>(fn: (db: Db) => T): T {
    return this.db.transaction(() => fn(this.db)).deferred();
  }

  /** A stored setting, e.g. `driver` (the driver this store used last). */
  getSetting(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  /** Store a setting. */
  setSetting(key: string, value: string): void {
    this.write((db) =>
      db
        .prepare(
          "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .run(key, value),
    );
  }

  /** Close the database. Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
