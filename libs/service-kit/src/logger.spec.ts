import { Writable } from 'node:stream';
import pino from 'pino';
import { logFormatFor, prettyLogStream } from './logger';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (chunk, _encoding, done) => (chunks.push(String(chunk)), done()) }), text: () => chunks.join('') };
}

describe('logger output', () => {
  it('when stdout is a terminal, then logs are for a person; when it is a pipe or a file (containers, CI, tests), then JSON', () => {
    expect(logFormatFor({ isTTY: true })).toBe('pretty');
    expect(logFormatFor({ isTTY: false })).toBe('json');
    expect(logFormatFor({})).toBe('json');
  });

  it('when a line is pretty, then one event is one line: short time, level, process name and pid, message, fields', () => {
    const out = sink();
    const logger = pino({ name: 'order-command' }, prettyLogStream(out.stream, false));
    logger.info({ orderId: '42', items: 2 }, 'order placed');
    logger.warn({ err: new Error('boom') }, 'downstream error');
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^\\[\\d{2}:\\d{2}:\\d{2}\\.\\d{3}\\] INFO \\(order-command/${process.pid}\\): order placed \\{"orderId":"42","items":2\\}$`),
    );
    expect(lines[1]).toMatch(/^\[[\d:.]+\] WARN \(order-command\/\d+\): downstream error/);
    expect(out.text()).not.toContain('hostname');
  });

  it('when colour is on, then the level is coloured', () => {
    const out = sink();
    pino({ name: 'inventory' }, prettyLogStream(out.stream, true)).info('ready');
    expect(out.text()).toContain('\u001b[32mINFO\u001b[39m');
  });
});
