#!/usr/bin/env node
/**
 * The public API report of @strata/core: `etc/core.api.md`, generated from the built
 * declaration files of the package's two entry points (`@strata/core` and
 * `@strata/core/testing`, i.e. what a third party compiles against) with the TypeScript
 * compiler API.
 *
 * - The driver contract (what a driver implements, calls or tests with: snapshots/,
 *   mount/, driver/, the differ contract and naive differ, errors, tokens, DI, descriptors,
 *   the whole testing kit) is reported member by member with full types.
 * - Everything else is reported by name and kind, so adding, removing or renaming an
 *   export shows too.
 *
 * `src/api-report.test.ts` fails when the report in the repository differs from the API
 * the build produces. After a deliberate change:
 *
 *   npx tsc -b packages/core && node packages/core/scripts/api-report.mjs
 *
 * and commit `packages/core/etc/core.api.md` with the change (reviewers read its diff).
 * A change to the contract's shape also needs a thought about DRIVER_CONTRACT_VERSION.
 *
 * Usage: api-report.mjs [--check]   (--check: exit 1 when the file is out of date)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(pkgDir, "dist");
/** Where the report lives, relative to the package. */
export const REPORT_FILE = join(pkgDir, "etc/core.api.md");

const ENTRIES = [
  ["@strata/core", join(dist, "index.d.ts")],
  ["@strata/core/testing", join(dist, "testing/index.d.ts")],
];

/** Declaration files (relative to dist/) whose exports are reported member by member. */
const CONTRACT = [
  /^snapshots\//,
  /^mount\//,
  /^driver\//,
  /^diff\/differ\.d\.ts$/,
  /^diff\/naive-differ\.d\.ts$/,
  /^errors\.d\.ts$/,
  /^tokens\.d\.ts$/,
  /^di\.d\.ts$/,
  /^content\/descriptor\.d\.ts$/,
  /^testing\//,
];

const FLAGS = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.WriteArrowStyleSignature;

function kindsOf(sym) {
  const f = sym.flags;
  const kinds = [];
  if (f & ts.SymbolFlags.Class) kinds.push("class");
  else if (f & ts.SymbolFlags.Interface) kinds.push("interface");
  if (f & ts.SymbolFlags.Enum) kinds.push("enum");
  if (f & ts.SymbolFlags.Function) kinds.push("function");
  if (f & ts.SymbolFlags.Variable) kinds.push("const");
  if (f & ts.SymbolFlags.TypeAlias) kinds.push("type");
  if (f & ts.SymbolFlags.Module) kinds.push("namespace");
  return kinds.length > 0 ? kinds : ["unknown"];
}

function isPublic(decl) {
  const mods = ts.canHaveModifiers(decl) ? (ts.getModifiers(decl) ?? []) : [];
  if (mods.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return false;
  if (mods.some((m) => m.kind === ts.SyntaxKind.ProtectedKeyword)) return true;
  return !(decl.name && ts.isPrivateIdentifier(decl.name));
}

function memberLines(checker, type, at, indent) {
  const lines = [];
  for (const prop of checker.getPropertiesOfType(type)) {
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    if (decl && !isPublic(decl)) continue;
    // Members inherited from outside the package (Error's, Node's) are not its API.
    if (decl && !decl.getSourceFile().fileName.startsWith(dist)) continue;
    if (prop.name === "prototype") continue;
    const optional = prop.flags & ts.SymbolFlags.Optional ? "?" : "";
    const readonly =
      decl && ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Readonly ? "readonly " : "";
    const t = checker.getTypeOfSymbolAtLocation(prop, decl ?? at);
    lines.push(
      `${indent}${readonly}${prop.name}${optional}: ${checker.typeToString(t, at, FLAGS)}`,
    );
  }
  return lines;
}

function detail(checker, sym) {
  const decl = sym.declarations?.[0];
  const lines = [];
  if (sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
    const heritage =
      decl && (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl))
        ? (decl.heritageClauses ?? []).map((h) => h.getText()).join(" ")
        : "";
    if (heritage) lines.push(`  ${heritage}`);
    if (sym.flags & ts.SymbolFlags.Class) {
      const ctorType = checker.getTypeOfSymbolAtLocation(sym, decl);
      for (const sig of ctorType.getConstructSignatures()) {
        lines.push(`  new ${checker.signatureToString(sig, decl, FLAGS)}`);
      }
      for (const l of memberLines(checker, ctorType, decl, "  static ")) lines.push(l);
    }
    lines.push(...memberLines(checker, checker.getDeclaredTypeOfSymbol(sym), decl, "  "));
  } else if (sym.flags & ts.SymbolFlags.Function) {
    const t = checker.getTypeOfSymbolAtLocation(sym, decl);
    for (const sig of t.getCallSignatures()) {
      lines.push(`  ${checker.signatureToString(sig, decl, FLAGS)}`);
    }
  } else if (sym.flags & ts.SymbolFlags.Variable) {
    const t = checker.getTypeOfSymbolAtLocation(sym, decl);
    lines.push(`  ${checker.typeToString(t, decl, FLAGS)}`);
  } else if (sym.flags & ts.SymbolFlags.TypeAlias) {
    const t = checker.getDeclaredTypeOfSymbol(sym);
    lines.push(`  = ${checker.typeToString(t, decl, FLAGS | ts.TypeFormatFlags.InTypeAlias)}`);
  } else if (sym.flags & ts.SymbolFlags.Enum) {
    for (const m of checker.getExportsOfModule(sym)) lines.push(`  ${m.name}`);
  }
  return lines;
}

/** `text` as inline code (double backticks when it holds one, as template literal types do). */
function code(text) {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** Render the report from the built declaration files. */
export function renderReport() {
  const program = ts.createProgram(
    ENTRIES.map(([, file]) => file),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ["node"],
    },
  );
  const checker = program.getTypeChecker();
  const out = [
    "# API report: @strata/core",
    "",
    "<!-- Generated by packages/core/scripts/api-report.mjs from dist/*.d.ts; do not edit by hand.",
    "     src/api-report.test.ts fails when this file and the built API differ. -->",
    "",
    "The driver contract is listed member by member; every other export by name and kind.",
    "To accept a deliberate change: `npx tsc -b packages/core && node packages/core/scripts/api-report.mjs`.",
  ];
  for (const [name, file] of ENTRIES) {
    const sf = program.getSourceFile(file);
    if (!sf)
      throw new Error(`${file} is missing: build @strata/core first (npx tsc -b packages/core)`);
    const moduleSym = checker.getSymbolAtLocation(sf);
    if (!moduleSym) throw new Error(`${file} has no exports`);
    const exports = checker
      .getExportsOfModule(moduleSym)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const contract = [];
    const rest = [];
    for (const exp of exports) {
      const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      const declFile = sym.declarations?.[0]?.getSourceFile().fileName ?? "";
      const rel = relative(dist, declFile);
      // Only a value (a class, a function, a const) changes meaning when exported as a type.
      const typeOnly =
        sym.flags & ts.SymbolFlags.Value &&
        exp.declarations?.some((d) => d.isTypeOnly || d.parent?.parent?.isTypeOnly)
          ? " (type-only export)"
          : "";
      const head = `${kindsOf(sym).join(" + ")} ${exp.name}${typeOnly}`;
      if (CONTRACT.some((re) => re.test(rel))) {
        contract.push(
          `- ${code(head)} — ${rel}`,
          ...detail(checker, sym).map((l) => `  - ${code(l.trim())}`),
        );
      } else {
        rest.push(`- ${code(head)}`);
      }
    }
    out.push("", `## ${name}`, "");
    if (contract.length > 0) out.push("### Driver contract", "", ...contract, "");
    if (rest.length > 0) out.push("### Other exports", "", ...rest, "");
  }
  const text = out
    .join("\n")
    // A type out of scope where it is used prints as import("<absolute path>").Name.
    .replace(/import\("[^"]*"\)\./g, "")
    .replace(/\n{3,}/g, "\n\n")
    .replace(/\n+$/, "");
  return `${text}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderReport();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(REPORT_FILE, "utf8");
    } catch {}
    if (current !== text) {
      console.error(`${REPORT_FILE} is out of date; run node packages/core/scripts/api-report.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(REPORT_FILE, text);
    console.log(`wrote ${relative(process.cwd(), REPORT_FILE)}`);
  }
}
