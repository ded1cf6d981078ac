/**
 * Helpers for the save/load suites: craft tar archives entry by entry (including hostile
 * ones), read archives back, snapshot a store's visible state, and compare file trees.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readTar, TarWriter } from "@strata/core";
import { expect } from "vitest";
import { makeTempDir, type StrataCli } from "./strata.js";

/** One entry of a crafted archive. */
export interface CraftEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "link" | "char";
  body?: string | Buffer;
  linkname?: string;
  /** Size written in the header when it must lie about the body. */
  size?: number;
}

/** A tar archive of `entries`, written with core's tar writer (names are not checked). */
export async function craftTar(entries: CraftEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const tar = new TarWriter({
    async write(chunk) {
      parts.push(Buffer.from(chunk));
    },
  });
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const type = e.type ?? "file";
    await tar.entry(
      {
        name: e.name,
        type,
        mode: type === "dir" ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        size: type === "file" ? (body?.length ?? 0) : 0,
        mtime: 0,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(type === "char" ? { devmajor: 1, devminor: 3 } : {}),
      },
      type === "file" ? body : undefined,
    );
  }
  await tar.finish();
  return Buffer.concat(parts);
}

/** Every entry of a tar archive: name, type, link target and body. */
export async function readArchive(
  data: Buffer,
): Promise<{ name: string; type: string; linkname?: string; body: Buffer }[]> {
  const out: { name: string; type: string; linkname?: string; body: Buffer }[] = [];
  for await (const e of readTar(
    (async function* () {
      yield data;
    })(),
  )) {
    out.push({
      name: e.header.name,
      type: e.header.type,
      ...(e.header.linkname ? { linkname: e.header.linkname } : {}),
      body: await e.buffer(),
    });
  }
  return out;
}

/** `sha256:<hex>` of some bytes. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** What a store shows: its blob files, leftover ingest files, images with their tags. */
export interface StoreState {
  blobs: string[];
  ingest: string[];
  images: Record<string, string[]>;
}

/** The visible state of the store `cli` works on. */
export async function storeState(cli: StrataCli): Promise<StoreState> {
  const list = (d: string) => readdir(join(cli.root, d)).catch(() => [] as string[]);
  const ids = [...new Set((await cli.ok("images", "-q", "--no-trunc")).split("\n"))].filter(
    (l) => l !== "",
  );
  const images: Record<string, string[]> = {};
  if (ids.length > 0) {
    const all = JSON.parse(await cli.ok("inspect", ...ids)) as { Id: string; RepoTags: string[] }[];
    for (const img of all) images[img.Id] = img.RepoTags;
  }
  return {
    blobs: (await list("content/blobs/sha256")).sort(),
    ingest: await list("content/ingest"),
    images,
  };
}

/** Expect a load of `archive` to fail with `message` and to leave the store as it was. */
export async function expectRefused(
  cli: StrataCli,
  archive: Buffer,
  message: RegExp,
): Promise<void> {
  const before = await storeState(cli);
  // From a file: a load that fails early stops reading, and a pipe would then break.
  const file = join(await makeTempDir("strata-archive-"), "archive.tar");
  await writeFile(file, archive);
  const r = await cli.run("load", "-i", file);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^Error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.code).toBe(1);
  expect(r.stdout).not.toMatch(/Loaded image/);
  expect(await storeState(cli)).toEqual({ ...before, ingest: [] });
}

/** One node of a file tree as {@link describeTree} records it. */
export type TreeNode =
  | { type: "dir"; mode: number }
  | { type: "file"; mode: number; sha: string }
  | { type: "symlink"; target: string };

/** Path → type, mode and content hash (or link target) of every node below `root`. */
export async function describeTree(root: string): Promise<Record<string, TreeNode>> {
  const out: Record<string, TreeNode> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, p));
      if (st.isSymbolicLink()) out[p] = { type: "symlink", target: await readlink(join(root, p)) };
      else if (st.isDirectory()) {
        out[p] = { type: "dir", mode: st.mode & 0o7777 };
        await walk(p);
      } else {
        out[p] = {
          type: "file",
          mode: st.mode & 0o7777,
          sha: sha256(await readFile(join(root, p))),
        };
      }
    }
  };
  await walk("");
  return out;
}
