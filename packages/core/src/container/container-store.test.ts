import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { MetadataStore } from "../metadata/metadata-store.js";
import { ContainerStore } from "./container-store.js";
import type { ContainerRecord } from "./container-types.js";

let root: string;
let meta: MetadataStore;
let store: ContainerStore;

const IMAGE = `sha256:${"1".repeat(64)}`;

function rec(id: string, name: string): ContainerRecord {
  return {
    id,
    name,
    imageId: IMAGE,
    driver: "vfs",
    created: new Date("2024-01-02T03:04:05Z"),
    config: { Cmd: ["true"], Image: "busybox" },
    hostConfig: { binds: [], networkMode: "none", autoRemove: false },
    state: { status: "created" },
  };
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-containers-"));
  meta = new MetadataStore(root);
  meta.write((db) =>
    db
      .prepare(
        "INSERT INTO images(id, manifest_digest, created, size, added) VALUES (?, 'x', 'now', 0, 'now')",
      )
      .run(IMAGE),
  );
  store = new ContainerStore(meta);
});
afterEach(async () => {
  meta.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe("ContainerStore", () => {
  it("finds a container by full ID, by name (with or without /) and by unique ID prefix", () => {
    const a = "ab".repeat(32);
    const b = "ac".repeat(32);
    store.insert(rec(a, "first"));
    store.insert(rec(b, "second"));
    expect(store.get(a).name).toBe("first");
    expect(store.get("second").id).toBe(b);
    expect(store.get("/second").id).toBe(b);
    expect(store.get("aba").id).toBe(a);
    expect(() => store.get("a")).toThrow(InvalidArgumentError);
    expect(() => store.get("a")).toThrow("multiple IDs found with provided prefix: a");
    expect(() => store.get("nope")).toThrow(NotFoundError);
    expect(() => store.get("nope")).toThrow("No such container: nope");
  });

  it("round-trips config, host config, state and creation time", () => {
    const r = rec("cd".repeat(32), "c1");
    store.insert(r);
    expect(store.byId(r.id)).toEqual(r);
    expect(store.list().map((x) => x.id)).toEqual([r.id]);
  });

  it("refuses a taken name with docker's message, and names docker would refuse", () => {
    store.insert(rec("ef".repeat(32), "taken"));
    expect(() => store.insert(rec("fe".repeat(32), "taken"))).toThrow(AlreadyExistsError);
    expect(() => store.insert(rec("fe".repeat(32), "taken"))).toThrow(
      `Conflict. The container name "/taken" is already in use by container "${"ef".repeat(32)}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    expect(() => store.insert(rec("fe".repeat(32), "-bad"))).toThrow(
      "Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    );
  });

  it("updates state in one transaction and deletes rows", () => {
    const r = rec("12".repeat(32), "u1");
    store.insert(r);
    const after = store.update(r.id, (s) => ({ ...s, status: "exited", exitCode: 3 }));
    expect(after?.state).toEqual({ status: "exited", exitCode: 3 });
    expect(store.update(r.id, () => undefined)?.state.exitCode).toBe(3);
    store.delete(r.id);
    expect(store.byId(r.id)).toBeUndefined();
    expect(store.update(r.id, (s) => s)).toBeUndefined();
  });
});
