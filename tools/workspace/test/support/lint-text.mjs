// Lints source snippets with the ESLint Node API, as if they were files of the workspace, and prints the findings.
//
// Runs as a child process on purpose: ESLint loads eslint.config.mjs with a dynamic import(), which Jest's CommonJS
// VM rejects ("A dynamic import callback was invoked without --experimental-vm-modules").
//
// stdin:  {"cwd": "<workspace root>", "cases": [{"filePath": "apps/x/src/y.ts", "code": "..."}]}
// stdout: anything ESLint plugins print, then RESULT_MARKER and one JSON line:
//         [{"filePath": "...", "messages": [{"ruleId": "...", "severity": 2, "message": "..."}]}]
import path from 'node:path';
import { ESLint } from 'eslint';

export const RESULT_MARKER = '--- lint-text results ---';

let raw = '';
for await (const chunk of process.stdin) raw += chunk;
const { cwd, cases } = JSON.parse(raw);

const eslint = new ESLint({ cwd });
const results = [];
for (const { filePath, code } of cases) {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(cwd, filePath), warnIgnored: true });
  results.push({
    filePath,
    messages: (result?.messages ?? []).map(({ ruleId, severity, message }) => ({ ruleId, severity, message })),
  });
}
process.stdout.write(`\n${RESULT_MARKER}\n${JSON.stringify(results)}\n`);
