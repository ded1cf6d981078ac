// Sums vitest JSON reports written by scripts/test and prints the final summary line.
//
// usage: node scripts/lib/test-summary.mjs RESULTS_DIR SUITE...
//
// For each SUITE, RESULTS_DIR holds <suite>.rc (the exit status of its run), optionally
// <suite>.seconds and <suite>.json (vitest's JSON reporter output). Prints one line per
// suite, the reason for every crash, and then, as the very last line,
// `N passed, N failed[, N skipped]`. Exits 1 when anything failed or crashed.
//
// A crash counts as one failure: a test file that failed to load or whose hook threw (its
// tests report as skipped), a run that exited non-zero with no failing test (unhandled
// errors), and a run that wrote no report at all.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, ...suites] = process.argv.slice(2);
if (!dir) {
  console.error("usage: test-summary.mjs RESULTS_DIR SUITE...");
  process.exit(2);
}

const read = (file) => {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined;
};

const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

for (const suite of suites) {
  const rc = Number(read(`${suite}.rc`) ?? "1");
  const seconds = read(`${suite}.seconds`);
  const raw = read(`${suite}.json`);
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const notes = [];
  let report;
  if (raw !== undefined) {
    try {
      report = JSON.parse(raw);
    } catch (err) {
      notes.push(`unreadable JSON report (${err.message})`);
    }
  }
  if (report) {
    counts.passed = report.numPassedTests ?? 0;
    counts.failed = report.numFailedTests ?? 0;
    counts.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    for (const file of report.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((a) => a.status === "failed");
      if (file.status === "failed" && failedTests.length === 0) {
        counts.failed += 1;
        const why = (file.message ?? "").split("\n")[0] || "no test failed, yet the file did";
        notes.push(`${file.name}: ${why}`);
      }
    }
    if (rc !== 0 && counts.failed === 0) {
      counts.failed += 1;
      notes.push(`vitest exited ${rc} with no failing test (unhandled errors? see its output)`);
    }
  } else if (rc !== 0) {
    counts.failed += 1;
    notes.push(`exited ${rc} without a test report (crashed before or while running)`);
  } else if (raw === undefined) {
    notes.push("not a vitest suite: passed by exit status only");
  }
  if (report && (report.numTotalTestSuites ?? 0) === 0 && counts.failed === 0) {
    notes.push("no test files");
  }

  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  const time = seconds === undefined ? "" : ` (${seconds}s)`;
  lines.push(`  ${suite.padEnd(16)} ${format(counts)}${time}`);
  for (const note of notes) lines.push(`    ${note}`);
}

function format({ passed, failed, skipped }) {
  const base = `${passed} passed, ${failed} failed`;
  return skipped > 0 ? `${base}, ${skipped} skipped` : base;
}

if (suites.length === 0) {
  lines.push("  no suite ran");
}
const failed = total.failed > 0 || suites.length === 0;
console.log(failed ? `Test suites (reports kept in ${dir}):` : "Test suites:");
for (const line of lines) console.log(line);
console.log(format(total));
process.exit(failed ? 1 : 0);
