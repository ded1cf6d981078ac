import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MetadataStore } from "./metadata-store.js";
import { MIGRATIONS } from "./migrations.js";

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-meta-"));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("MetadataStore", () => {
  it("migrates a new database to the latest schema once", () => {
    const a = new MetadataStore(root);
    expect(a.schemaVersion).toBe(MIGRATIONS.length);
    a.close();
    const b = new MetadataStore(root);
    expect(b.schemaVersion).toBe(MIGRATIONS.length);
    b.close();
  });

  it("rolls back a failed write transaction completely", () => {
    const m = new MetadataStore(root);
    expect(() =>
      m.write((db) => {
        db.prepare("INSERT INTO settings(key, value) VALUES ('a', '1')").run();
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(m.getSetting("a")).toBeUndefined();
    m.setSetting("a", "2");
    m.setSetting("a", "3");
    expect(m.getSetting("a")).toBe("3");
    m.close();
  });

  it("is shared by two handles as two processes would share it", () => {
    const a = new MetadataStore(root);
    const b = new MetadataStore(root);
    a.setSetting("driver", "vfs");
    expect(b.getSetting("driver")).toBe("vfs");
    a.close();
    b.close();
  });
});
