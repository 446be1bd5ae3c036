import { DockerfileParser, From, Instruction, JSONInstruction } from 'dockerfile-ast';
import { validate as syntaxDiagnostics } from 'dockerfile-utils';

/**
 * The project's Dockerfile rules, over dockerfile-ast's parse (hadolint is not available offline):
 * dockerfile-utils' own validation (syntax, flags, instruction arguments) plus the rules below.
 */
export const RULES = {
  syntax: 'a Dockerfile the parser and validator accept',
  'base-image': 'every FROM is node:20-bookworm-slim (optionally @sha256:...) or an earlier stage: never :latest or untagged',
  'multi-stage': 'at least two stages: dependencies and build tools stay out of the image',
  'final-user': 'the final stage switches to a non-root USER',
  'add-url': 'no ADD of a URL (use a verified download in a RUN, or COPY)',
  'npm-ci': 'dependencies are installed with npm ci (the lock file), never npm install',
  pipefail: 'a RUN with a pipe runs under SHELL ["/bin/bash", "-o", "pipefail", "-c"], so a failing command before the pipe fails the build (hadolint DL4006)',
  'final-omit-dev': 'the final stage installs only production dependencies (npm ci --omit=dev) and copies no node_modules from another stage',
  healthcheck: 'the final stage has a HEALTHCHECK in exec form, or a "# no HEALTHCHECK: <reason>" comment',
  expose: 'the final stage EXPOSEs its port',
  'cmd-exec-form': 'the final stage has a CMD (and any ENTRYPOINT) in exec (JSON) form, so node is PID 1 and gets SIGTERM',
  'secret-in-image': 'no ENV or ARG that looks like a secret (they stay in the image history)',
} as const;

export type Rule = keyof typeof RULES;

export interface DockerfileProblem {
  rule: Rule;
  /** 1-based. */
  line: number;
  message: string;
}

const BASE_IMAGE = /^node:20-bookworm-slim(@sha256:[0-9a-f]{64})?$/;
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY)/i;

const lineOf = (instruction: Instruction) => instruction.getRange().start.line + 1;
const args = (instruction: Instruction) => instruction.getArgumentsContent() ?? '';
const isExecForm = (instruction: Instruction) => instruction instanceof JSONInstruction && instruction.getJSONStrings().length > 0;

/** The instructions of each stage, in order (a stage starts at its FROM). */
function stages(instructions: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') result.push([]);
    result[result.length - 1]?.push(instruction);
  }
  return result;
}

/** The stages of the image the last stage builds: it and the stages it is built FROM, outermost first, as one list. */
function imageStages(all: Instruction[][]): Instruction[] {
  const fromOf = (stage: Instruction[]) => (stage[0] instanceof From ? stage[0] : undefined);
  const byName = new Map<string, Instruction[]>();
  for (const stage of all) {
    const name = fromOf(stage)?.getBuildStage();
    if (name) byName.set(name, stage);
  }
  const chain: Instruction[][] = [];
  for (let stage = all[all.length - 1]; stage && !chain.includes(stage); stage = byName.get(fromOf(stage)?.getImage() ?? '')) chain.unshift(stage);
  return chain.flat();
}

/**
 * The Dockerfile as a build with `--build-arg NAME=value ...` reads it: `${NAME}` and `$NAME` replaced by the
 * values given (a build argument without a value stays as written).
 */
export function withBuildArgs(content: string, args: Record<string, string>): string {
  return content.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => args[(braced ?? bare)!] ?? whole);
}

export function lintDockerfile(content: string): DockerfileProblem[] {
  const problems: DockerfileProblem[] = [];
  const report = (rule: Rule, line: number, message: string) => problems.push({ rule, line, message });

  for (const diagnostic of syntaxDiagnostics(content)) {
    report('syntax', diagnostic.range.start.line + 1, typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value);
  }

  const dockerfile = DockerfileParser.parse(content);
  const all = stages(dockerfile.getInstructions());
  const stageNames = new Set<string>();
  for (const from of dockerfile.getFROMs()) {
    const image = from.getImage() ?? '';
    if (!stageNames.has(image) && !BASE_IMAGE.test(image)) {
      report('base-image', lineOf(from), `FROM ${image}: use node:20-bookworm-slim (pinned; never :latest or untagged)`);
    }
    const stage = from.getBuildStage();
    if (stage) stageNames.add(stage);
  }
  if (all.length < 2) report('multi-stage', 1, `${all.length} stage(s): build in one stage, copy the result into a clean final stage`);

  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const text = args(instruction);
    if (keyword === 'ADD' && /(^|\s)(https?|ftp|git):\/\/|(^|\s)git@/.test(text)) report('add-url', lineOf(instruction), `ADD ${text}`);
    if (keyword === 'RUN' && /\bnpm\s+(install|i|add)\b/.test(text))
      report('npm-ci', lineOf(instruction), 'npm install: use npm ci, which installs exactly the lock file');
    if (keyword === 'ENV' || keyword === 'ARG') {
      for (const name of text.split(/\s+/).map((pair) => pair.split('=')[0] ?? '')) {
        if (SECRET_NAME.test(name)) report('secret-in-image', lineOf(instruction), `${keyword} ${name}: pass secrets at run time, not in the image`);
      }
    }
  }

  for (const stage of all) {
    let pipefail = false;
    for (const instruction of stage) {
      if (instruction.getKeyword() === 'SHELL') pipefail = /"-o",\s*"pipefail"/.test(args(instruction));
      if (instruction.getKeyword() === 'RUN' && /(^|[^|])\|([^|]|$)/.test(args(instruction)) && !pipefail) {
        report('pipefail', lineOf(instruction), 'RUN with a pipe: add SHELL ["/bin/bash", "-o", "pipefail", "-c"] to this stage first');
      }
    }
  }

  // The final stage with the stages it builds on (a last stage `FROM ${APP}` picks a stage of this file).
  const final = imageStages(all);
  const finalLine = final[0] ? lineOf(final[0]) : 1;
  const inFinal = (keyword: string) => final.filter((i) => i.getKeyword() === keyword);

  const users = inFinal('USER');
  const lastUser = users[users.length - 1];
  const userName = lastUser ? args(lastUser).split(':')[0]?.trim() : undefined;
  if (!lastUser || userName === 'root' || userName === '0') {
    report('final-user', lastUser ? lineOf(lastUser) : finalLine, lastUser ? `USER ${args(lastUser)} is root` : 'the final stage runs as root: add USER');
  }

  const installs = inFinal('RUN').filter((i) => /\bnpm\s+ci\b/.test(args(i)));
  if (!installs.some((i) => /--omit[= ]dev\b/.test(args(i)))) {
    report('final-omit-dev', finalLine, 'the final stage has no `npm ci --omit=dev`');
  }
  for (const copy of inFinal('COPY')) {
    if (/--from=/.test(copy.getTextContent()) && /node_modules/.test(args(copy))) {
      report('final-omit-dev', lineOf(copy), `COPY ${args(copy)}: node_modules from another stage may carry dev dependencies`);
    }
  }

  const healthchecks = inFinal('HEALTHCHECK');
  const documentedNoHealthcheck = dockerfile.getComments().some((c) => /^no HEALTHCHECK:\s*\S/.test(c.getContent()));
  if (healthchecks.length === 0 && !documentedNoHealthcheck) report('healthcheck', finalLine, 'no HEALTHCHECK and no "# no HEALTHCHECK: <reason>" comment');
  for (const healthcheck of healthchecks) {
    const text = args(healthcheck).replace(/--[a-z-]+=\S+\s*/g, '');
    if (!/^NONE$|^CMD\s+\[/.test(text)) report('healthcheck', lineOf(healthcheck), `HEALTHCHECK ${args(healthcheck)}: use CMD ["..."] (exec form)`);
  }

  if (inFinal('EXPOSE').length === 0) report('expose', finalLine, 'the final stage EXPOSEs no port');

  const cmds = inFinal('CMD');
  const lastCmd = cmds[cmds.length - 1];
  if (!lastCmd) report('cmd-exec-form', finalLine, 'the final stage has no CMD');
  else if (!isExecForm(lastCmd)) report('cmd-exec-form', lineOf(lastCmd), `CMD ${args(lastCmd)}: use the exec form ["node", ...]`);
  for (const entrypoint of inFinal('ENTRYPOINT')) {
    if (!isExecForm(entrypoint)) report('cmd-exec-form', lineOf(entrypoint), `ENTRYPOINT ${args(entrypoint)}: use the exec form`);
  }
  return problems.sort((a, b) => a.line - b.line);
}

/** The final stage's instructions, with those of the stages it is built FROM, for checks specific to one app's image. */
export function finalStage(content: string): Instruction[] {
  return imageStages(stages(DockerfileParser.parse(content).getInstructions()));
}

export const argumentsOf = args;
