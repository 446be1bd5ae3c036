import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above this file that holds nx.json. */
export function workspaceRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${from}`);
    dir = parent;
  }
}
