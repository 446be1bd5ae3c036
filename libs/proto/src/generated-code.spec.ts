import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const libRoot = path.resolve(__dirname, '..');
const buf = path.resolve(libRoot, '..', '..', 'node_modules', '.bin', 'buf');

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('libs/proto contracts', () => {
  it('when the protos are linted with buf STANDARD rules, then there is no finding', () => {
    expect(() => execFileSync(buf, ['lint'], { cwd: libRoot, encoding: 'utf8' })).not.toThrow();
  });

  it('when the code is generated again, then it is identical to the committed code (not stale)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'proto-gen-'));
    try {
      execFileSync(buf, ['generate', '-o', out], { cwd: libRoot, encoding: 'utf8' });
      execFileSync(buf, ['build', '-o', path.join(out, 'src', 'generated', 'descriptor-set.binpb')], { cwd: libRoot });
      const fresh = path.join(out, 'src', 'generated');
      const committed = path.join(libRoot, 'src', 'generated');
      expect(listFiles(committed)).toEqual(listFiles(fresh));
      for (const file of listFiles(fresh)) {
        const same = fs.readFileSync(path.join(fresh, file)).equals(fs.readFileSync(path.join(committed, file)));
        if (!same) throw new Error(`${file} is stale: run \`npm run proto:generate\` and commit the result`);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
