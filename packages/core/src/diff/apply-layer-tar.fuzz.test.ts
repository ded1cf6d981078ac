import * as fs from "node:fs/promises";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StrataError } from "../errors.js";
import { fuzzParams } from "../util/fuzz-support.js";
import type { TarEntryType } from "../util/tar-header.js";
import { TarWriter } from "../util/tar-writer.js";
import { applyLayerTar } from "./apply-layer-tar.js";
import { cleanupTemp, put, snapshotTree, tempDir } from "./test-support/trees.js";

/**
 * Fixed seed, so a failure is reproducible (STRATA_FUZZ_SEED explores others); runs sized
 * to keep the property within a few seconds (every run writes a tree).
 */
const params = fuzzParams(200);

let base: string;
let outside: string;
let before: Awaited<ReturnType<typeof snapshotTree>>;

beforeAll(async () => {
  base = await tempDir("strata-apply-fuzz-");
  outside = path.join(base, "outside");
  await put(outside, "victim", "precious");
  await put(outside, "sub/file", "also precious");
  before = await snapshotTree(outside);
});
afterAll(cleanupTemp);

/** Names from a small vocabulary, so entries collide, nest, white out and link each other. */
const part = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "sub", "l") },
  { weight: 1, arbitrary: fc.constantFrom(".", "..", ".wh.a", ".wh.l", ".wh..wh..opq", ".wh..") },
);
const name = fc
  .tuple(fc.constantFrom("", "", "", "/", "./"), fc.array(part, { minLength: 1, maxLength: 2 }))
  .map(([lead, parts]) => lead + parts.join("/"));
const linkTarget = fc.oneof(name, fc.constantFrom("OUT", "OUT/victim", "OUT/sub", "../OUT", "/"));
const entry = fc.record({
  name,
  type: fc.constantFrom<TarEntryType>("file", "dir", "symlink", "link", "fifo"),
  linkname: linkTarget,
  mode: fc.constantFrom(0o644, 0o755, 0o777, 0o4755, 0o000),
});

describe("applyLayerTar (fuzzed)", () => {
  it("applies any mix of colliding, linking and whiteout entries without touching outside", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), async (entries) => {
        const target = path.join(base, `t${run++}`);
        await fs.mkdir(target);
        const parts: Buffer[] = [];
        const w = new TarWriter({
          async write(c) {
            parts.push(Buffer.from(c));
          },
        });
        for (const e of entries) {
          const linkname = e.linkname
            .replace(/^\.\.\/OUT/, path.relative(target, outside))
            .replace(/^OUT/, outside);
          const body = e.type === "file" ? Buffer.from("x") : undefined;
          await w.entry(
            {
              name: e.name,
              type: e.type,
              mode: e.mode,
              uid: 0,
              gid: 0,
              size: body?.length ?? 0,
              mtime: 0,
              ...(e.type === "symlink" || e.type === "link" ? { linkname } : {}),
            },
            body,
          );
        }
        await w.finish();
        try {
          await applyLayerTar(
            (async function* () {
              yield Buffer.concat(parts);
            })(),
            target,
          );
        } catch (err) {
          if (!(err instanceof StrataError)) throw err;
        }
        expect(await snapshotTree(outside)).toEqual(before);
        expect((await fs.readdir(base)).filter((n) => !/^t\d+$/.test(n))).toEqual(["outside"]);
        await fs.rm(target, { recursive: true, force: true });
      }),
      params,
    );
  });
});
