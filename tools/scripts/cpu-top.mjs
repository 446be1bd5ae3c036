// `node tools/scripts/cpu-top.mjs FILE.cpuprofile [N]`: self time by function and by package, from a V8 CPU profile.
import fs from 'node:fs';

const [file, n = '25'] = process.argv.slice(2);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = profile.timeDeltas;
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const pkg = new Map();
for (const [id, us] of self) {
  const { callFrame } = byId.get(id);
  const url = callFrame.url.replace(/^file:\/\//, '');
  const where =
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (url.includes('/apps/') || url.includes('/libs/') ? url.replace(/.*\/(apps|libs)\//, '$1/') : url.startsWith('node:') ? url : url || '(native/gc/idle)');
  const key = `${callFrame.functionName || '(anonymous)'}  ${where}:${callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const group =
    callFrame.functionName === '(idle)'
      ? '(idle)'
      : callFrame.functionName === '(garbage collector)'
        ? '(gc)'
        : callFrame.functionName === '(program)'
          ? '(program)'
          : where
              .split('/')
              .slice(0, url.includes('node_modules') ? 1 : 2)
              .join('/');
  pkg.set(group, (pkg.get(group) ?? 0) + us);
}
const busy = total - (pkg.get('(idle)') ?? 0);
const show = (title, map) => {
  console.log(`\n${title} (busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s)`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
show('self time by package', pkg);
show('self time by function', fn);
