// Prints `tests: N passed, N failed` from a vitest JSON report; exits non-zero when the report
// is missing, empty or counts a failure, so CI cannot pass on a run that tested nothing. The
// optional second argument is vitest's exit code: a run that failed with every test passing (an
// unhandled error, which the report does not record) counts as one failure.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test/reports/vitest.json';
const vitestExit = Number(process.argv[3] ?? 0);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`no test report at ${file}: ${err.message}`);
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A file that failed without a failing test (it did not load, or a hook failed) counts once.
const brokenFiles = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
).length;
const counted = (report.numFailedTests ?? 0) + brokenFiles;
const unreported = vitestExit !== 0 && counted === 0 ? 1 : 0;
if (unreported) console.log(`vitest exited ${vitestExit} though every test passed (an unhandled error? see its output): counted as a failure`);
const failed = counted + unreported;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (skipped > 0) console.log(`${skipped} tests were skipped or todo: they count as failures here`);
console.log(`tests: ${passed} passed, ${failed + skipped} failed`);
process.exit(failed + skipped > 0 || passed === 0 ? 1 : 0);
