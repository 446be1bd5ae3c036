// Which files Prettier formats: for each workspace-relative path on stdin (one per line), whether .prettierignore
// leaves it out and which parser Prettier infers (null: a file type Prettier does not format).
// A child process for the same reason as lint-text.mjs: Prettier's API loads its plugins with a dynamic import().
//
// stdout: one JSON line: [{"file": "...", "ignored": false, "parser": "typescript"}]
import path from 'node:path';
import * as prettier from 'prettier';

let raw = '';
for await (const chunk of process.stdin) raw += chunk;
const cwd = process.cwd();
const results = [];
for (const file of raw.split('\n').filter(Boolean)) {
  const info = await prettier.getFileInfo(path.join(cwd, file), { ignorePath: path.join(cwd, '.prettierignore') });
  results.push({ file, ignored: info.ignored, parser: info.inferredParser });
}
process.stdout.write(JSON.stringify(results) + '\n');
