/**
 * Runs a command that starts things (a benchmark, a profile) and exits: 0 when `main` resolved, 1 when it
 * failed, 130 on Ctrl-C or SIGTERM; in every case only after `cleanUp` (made once, however many ask) has
 * stopped what the command started. A second Ctrl-C exits at once.
 */
export function runCommand(main: () => Promise<unknown>, cleanUp: () => Promise<unknown>): void {
  let cleaning: Promise<void> | undefined;
  const cleanUpOnce = () =>
    (cleaning ??= cleanUp().then(
      () => undefined,
      (error: unknown) => console.warn(`could not stop everything this command started: ${error instanceof Error ? error.message : String(error)}`),
    ));
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) {
        console.log(`\n${signal} again: exiting now, leaving what is not stopped yet running`);
        process.exit(130);
      }
      signalled = true;
      console.log(`\n${signal}: stopping what this command started (again to exit at once)...`);
      void cleanUpOnce().then(() => process.exit(130));
    });
  }
  main().then(
    () => cleanUpOnce().then(() => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      void cleanUpOnce().then(() => process.exit(1));
    },
  );
}

/** A command's numeric option (`--seconds 8`): `fallback` when absent; refused, naming it, when not a number. */
export function numberOption(name: string, fallback: number, argv: string[] = process.argv): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (argv[i + 1] === undefined || argv[i + 1] === '' || !Number.isFinite(value)) throw new Error(`${name} takes a number (got "${argv[i + 1] ?? ''}")`);
  return value;
}
