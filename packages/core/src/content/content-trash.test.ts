import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContentStore } from "./content-store.js";

/** A pid no process has (above Linux's largest pid_max). */
const DEAD_PID = 4194305;

let root: string;
let store: ContentStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-trash-"));
  store = new ContentStore(root);
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Move a trash file made by this process under a dead pid's name, as if it had been killed. */
async function asDead(trash: string): Promise<void> {
  const name = path.basename(trash).replace(/^\d+-/, `${DEAD_PID}-`);
  await fs.rename(trash, path.join(path.dirname(trash), name));
}

describe("ContentStore trash and leases", () => {
  it("trash takes a blob out of sight; emptying the trash deletes it", async () => {
    const { digest } = await store.put(Buffer.from("a"));
    const trash = store.trashSync(digest);
    expect(trash).toBeDefined();
    expect(await store.has(digest)).toBe(false);
    await store.emptyTrash([trash]);
    expect(await fs.readdir(path.join(root, "content", "trash"))).toEqual([]);
    expect(store.trashSync(digest)).toBeUndefined();
  });

  it("a dead process's trash goes back when still referenced, else away", async () => {
    const kept = await store.put(Buffer.from("still named by an image"));
    const gone = await store.put(Buffer.from("forgotten"));
    await asDead(store.trashSync(kept.digest)!);
    await asDead(store.trashSync(gone.digest)!);
    const live = store.trashSync((await store.put(Buffer.from("mine"))).digest)!;
    const { restored, deleted } = store.recoverTrashSync((d) => d === kept.digest);
    expect(restored).toEqual([kept.digest]);
    expect(deleted).toBe(1);
    expect(await store.has(kept.digest)).toBe(true);
    expect(await store.has(gone.digest)).toBe(false);
    // A live process's trash is its own business.
    expect(await fs.readdir(path.join(root, "content", "trash"))).toEqual([path.basename(live)]);
  });

  it("a committed blob is leased by its writer until released", async () => {
    const { digest } = await store.put(Buffer.from("leased"));
    expect(store.leasedSync(digest)).toBe(true);
    store.release([digest]);
    expect(store.leasedSync(digest)).toBe(false);
    expect(await fs.readdir(path.join(root, "content", "leases"))).toEqual([]);
  });

  it("leases and ingest files of a dead process are cleaned", async () => {
    const { digest } = await store.put(Buffer.from("orphan"));
    const leases = path.join(root, "content", "leases");
    await fs.rename(path.join(leases, String(process.pid)), path.join(leases, String(DEAD_PID)));
    expect(store.leasedSync(digest)).toBe(false);
    await fs.writeFile(path.join(root, "content", "ingest", `${DEAD_PID}-00`), "half");
    expect((await store.leftovers()).map((f) => f.pid).sort()).toEqual([DEAD_PID, DEAD_PID]);
    expect(await store.cleanIngest()).toBe(2);
    expect(await store.leftovers()).toEqual([]);
  });
});
