// A process for run-until-signal.spec.ts: one component whose stop takes argv[2] ms; prints READY once
// started and DRAINED once stopped.
import { createLogger, Lifecycle, runUntilSignal } from '../src';

const drainMs = Number(process.argv[2] ?? 800);
const lifecycle = new Lifecycle([
  {
    name: 'slow-drain',
    // A service's servers keep its event loop alive; here a timer does.
    start: async () => {
      setInterval(() => undefined, 60_000);
      console.log('READY');
    },
    stop: () => new Promise<void>((resolve) => setTimeout(() => (console.log('DRAINED'), resolve()), drainMs)),
  },
]);
void runUntilSignal(lifecycle, createLogger('signal-fixture', 'info'));
