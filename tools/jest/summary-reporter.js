// Writes one small JSON file of counts per Jest run into $ORDERFLOW_TEST_REPORT_DIR, so the test
// command can print one honest `tests: N passed, N failed` line across every project Nx ran.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.ORDERFLOW_TEST_REPORT_DIR;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    // A suite that failed to run at all (syntax error, failing hook) has no failed tests of its own.
    const brokenSuites = results.testResults.filter((s) => s.testExecError || (s.failureMessage && s.numFailingTests === 0)).length;
    const summary = {
      rootDir: this.globalConfig.rootDir,
      passed: results.numPassedTests,
      failed: results.numFailedTests + brokenSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suites: results.numTotalTestSuites,
    };
    const name = `${path.basename(this.globalConfig.rootDir)}-${process.pid}-${Date.now()}.json`;
    fs.writeFileSync(path.join(dir, name), JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
