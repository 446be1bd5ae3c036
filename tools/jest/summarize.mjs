// Sums the per-run JSON files that tools/jest/summary-reporter.js wrote and prints the one line CI
// reads: `tests: N passed, N failed`. Plain Node, no dependencies. Usage: node summarize.mjs DIR
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'reports/jest';
let passed = 0;
let failed = 0;
let skipped = 0;
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
for (const file of files) {
  const summary = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  passed += summary.passed;
  failed += summary.failed;
  skipped += summary.skipped;
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
