import { readText } from './workspace';

/** A pattern of .dockerignore as a regular expression over context-relative paths (`**`, `*`, `?`). */
function toRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Docker's reading of .dockerignore: patterns in order, the last one that matches a path or one of its
 * parent folders decides, and `!` re-includes.
 */
export function dockerignore(content = readText('.dockerignore')): { patterns: string[]; ignores(path: string): boolean } {
  const patterns = content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const rules = patterns.map((p) => {
    const negated = p.startsWith('!');
    const clean = (negated ? p.slice(1) : p).replace(/^\/+/, '').replace(/\/+$/, '');
    return { negated, regexp: toRegExp(clean) };
  });
  return {
    patterns,
    ignores(path: string) {
      const parts = path.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
      const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      let ignored = false;
      for (const rule of rules) if (prefixes.some((p) => rule.regexp.test(p))) ignored = !rule.negated;
      return ignored;
    },
  };
}
