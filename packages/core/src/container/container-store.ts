import { inject, injectable } from "tsyringe";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../errors.js";
import type { ContainerConfig } from "../image/image-types.js";
import { type Db, MetadataStore } from "../metadata/metadata-store.js";
import type { ContainerRecord, ContainerState, HostConfig } from "./container-types.js";

interface ContainerRow {
  id: string;
  name: string;
  image_id: string;
  driver: string;
  created: string;
  config: string;
  state: string;
}

/** What the `config` column holds: the effective config and the host wiring. */
interface StoredConfig {
  config: ContainerConfig;
  hostConfig: HostConfig;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ID_PREFIX_RE = /^[a-f0-9]{1,64}$/;

/**
 * The container rows of the metadata database (table `containers`): the bookkeeping of
 * containers, driver-independent. Each row names the image it uses (which `rmi` checks),
 * the driver that holds its snapshot, its effective config (JSON) and its state (JSON).
 * State changes are read-modify-write inside one write transaction ({@link update}), so
 * the monitor of a container and concurrent commands never lose each other's writes.
 */
@injectable()
export class ContainerStore {
  constructor(@inject(MetadataStore) private readonly meta: MetadataStore) {}

  /**
   * Record a new container.
   * @throws InvalidArgumentError for a name docker would refuse.
   * @throws AlreadyExistsError when the name is taken (docker's wording).
   */
  insert(rec: ContainerRecord): void {
    if (!NAME_RE.test(rec.name)) {
      throw new InvalidArgumentError(
        `Invalid container name (${rec.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    this.meta.write((db) => {
      const taken = db.prepare("SELECT id FROM containers WHERE name = ?").get(rec.name) as
        | { id: string }
        | undefined;
      if (taken) throw nameConflict(rec.name, taken.id);
      db.prepare(
        "INSERT INTO containers(id, name, image_id, driver, created, config, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(
        rec.id,
        rec.name,
        rec.imageId,
        rec.driver,
        rec.created.toISOString(),
        JSON.stringify({ config: rec.config, hostConfig: rec.hostConfig } satisfies StoredConfig),
        JSON.stringify(rec.state),
      );
    });
  }

  /** Whether a container has this name. */
  nameTaken(name: string): boolean {
    return !!this.meta.db.prepare("SELECT 1 FROM containers WHERE name = ?").get(name);
  }

  /**
   * Find a container as docker does: by full ID, then by name (a leading `/` allowed),
   * then by unique ID prefix.
   * @throws NotFoundError `No such container: <ref>`.
   * @throws InvalidArgumentError for an ID prefix several containers share.
   */
  get(ref: string): ContainerRecord {
    const row = this.meta.read((db) => findRow(db, ref));
    if (!row) throw new NotFoundError(`No such container: ${ref}`);
    return toRecord(row);
  }

  /** The container with this exact ID, or undefined. */
  byId(id: string): ContainerRecord | undefined {
    const row = this.meta.db.prepare("SELECT * FROM containers WHERE id = ?").get(id) as
      | ContainerRow
      | undefined;
    return row && toRecord(row);
  }

  /** Every container, newest first. */
  list(): ContainerRecord[] {
    const rows = this.meta.db
      .prepare("SELECT * FROM containers ORDER BY created DESC, id")
      .all() as ContainerRow[];
    return rows.map(toRecord);
  }

  /**
   * Change a container's state in one write transaction: `fn` gets the stored state and
   * returns the new one, or undefined to leave it as it is.
   * @returns the record after the change, or undefined when the container is gone.
   */
  update(
    id: string,
    fn: (state: ContainerState, rec: ContainerRecord) => ContainerState | undefined,
  ): ContainerRecord | undefined {
    return this.meta.write((db) => {
      const row = db.prepare("SELECT * FROM containers WHERE id = ?").get(id) as
        | ContainerRow
        | undefined;
      if (!row) return undefined;
      const rec = toRecord(row);
      const next = fn(rec.state, rec);
      if (!next) return rec;
      db.prepare("UPDATE containers SET state = ? WHERE id = ?").run(JSON.stringify(next), id);
      return { ...rec, state: next };
    });
  }

  /** Forget a container (its snapshot and files must be gone already). */
  delete(id: string): void {
    this.meta.write((db) => db.prepare("DELETE FROM containers WHERE id = ?").run(id));
  }
}

function findRow(db: Db, ref: string): ContainerRow | undefined {
  const byId = db.prepare("SELECT * FROM containers WHERE id = ?").get(ref) as
    | ContainerRow
    | undefined;
  if (byId) return byId;
  const byName = db
    .prepare("SELECT * FROM containers WHERE name = ?")
    .get(ref.startsWith("/") ? ref.slice(1) : ref) as ContainerRow | undefined;
  if (byName) return byName;
  if (!ID_PREFIX_RE.test(ref)) return undefined;
  const rows = db
    .prepare("SELECT * FROM containers WHERE id >= ? AND id < ? LIMIT 2")
    .all(ref, `${ref}g`) as ContainerRow[];
  if (rows.length > 1) {
    throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${ref}`);
  }
  return rows[0];
}

function toRecord(row: ContainerRow): ContainerRecord {
  const stored = JSON.parse(row.config) as StoredConfig;
  return {
    id: row.id,
    name: row.name,
    imageId: row.image_id,
    driver: row.driver,
    created: new Date(row.created),
    config: stored.config,
    hostConfig: stored.hostConfig,
    state: JSON.parse(row.state) as ContainerState,
  };
}

function nameConflict(name: string, id: string): AlreadyExistsError {
  return new AlreadyExistsError(
    `Conflict. The container name "/${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
}
