import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParams, typedOnly } from "../util/fuzz-support.js";
import {
  familiarString,
  parseReference,
  parseTagTarget,
  type Reference,
  referenceString,
} from "./reference.js";

/**
 * Fixed seed, so a failure is reproducible (STRATA_FUZZ_SEED explores others); runs sized
 * to keep each property near a second.
 */
const params = fuzzParams(3000);

/** Reference-shaped strings: domain-ish, path components, tag and digest parts, with junk. */
const piece = fc.oneof(
  fc.constantFrom("localhost", "docker.io", "index.docker.io", "Example.COM", "[::1]", "a-b.c"),
  fc.stringMatching(/^[a-z0-9._-]{0,12}$/),
  fc.stringMatching(/^[A-Za-z0-9_.:@/-]{0,12}$/),
  fc.string({ maxLength: 6 }),
);
const digestish = fc.oneof(
  fc.stringMatching(/^sha256:[a-f0-9]{64}$/),
  fc.stringMatching(/^[a-z0-9+._-]{1,10}:[A-Za-z0-9=_-]{0,70}$/),
);
const referenceLike = fc
  .tuple(
    fc.option(fc.tuple(piece, fc.option(fc.integer({ min: 0, max: 99999 })))),
    fc.array(piece, { minLength: 1, maxLength: 5 }),
    fc.option(piece),
    fc.option(digestish),
  )
  .map(([domain, path, tag, digest]) => {
    let s = domain ? `${domain[0]}${domain[1] === null ? "" : `:${domain[1]}`}/` : "";
    s += path.join("/");
    if (tag !== null) s += `:${tag}`;
    if (digest !== null) s += `@${digest}`;
    return s;
  });
const anyInput = fc.oneof(
  referenceLike,
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 300 }),
);

describe("parseReference (fuzzed)", () => {
  it("returns a reference or throws a typed error, for any input", () => {
    fc.assert(
      fc.property(anyInput, (s) => {
        typedOnly(() => parseReference(s));
        typedOnly(() => parseTagTarget(s));
      }),
      params,
    );
  });

  it("is a fixed point: what it prints parses back to the same reference", () => {
    fc.assert(
      fc.property(referenceLike, (s) => {
        const ref = typedOnly(() => parseReference(s));
        if (!ref) return;
        const again: Reference = parseReference(referenceString(ref));
        expect(again).toEqual(ref);
        // docker's own ambiguity: docker.io/localhost/x prints as localhost/x, which names
        // another registry; familiar names round-trip whenever the first part is no domain.
        const first = familiarString(ref).split("/")[0]!;
        const domainLike = first.includes(".") || first.includes(":") || first === "localhost";
        if (ref.domain !== "docker.io" || !familiarString(ref).includes("/") || !domainLike) {
          expect(parseReference(familiarString(ref))).toEqual(ref);
        }
      }),
      params,
    );
  });

  it("takes long, repetitive names in linear time (no backtracking blow-up)", () => {
    // Patterns that make a backtracking regexp engine explode on a mismatch at the end.
    for (const unit of ["a-", "a.", "a__", "a-b", "0", "a/"]) {
      for (const tail of ["!", "-", "A", "/", ":", "@"]) {
        const s = unit.repeat(20_000) + tail;
        typedOnly(() => parseReference(s));
        typedOnly(() => parseReference(`localhost:5000/${s}`));
        typedOnly(() => parseReference(`${"a".repeat(1000)}${".a".repeat(10_000)}${tail}/x`));
      }
    }
  });
});
