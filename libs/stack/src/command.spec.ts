import { numberOption } from './command';

describe("a command's numeric options", () => {
  it('when the option is given, then its value is read; when absent, then the fallback', () => {
    expect(numberOption('--seconds', 8, ['node', 'bench', '--seconds', '2.5', '--rounds', '3'])).toBe(2.5);
    expect(numberOption('--concurrency', 64, ['node', 'bench', '--seconds', '2'])).toBe(64);
  });

  it('when the value is missing or not a number, then the command is refused naming the option', () => {
    expect(() => numberOption('--seconds', 8, ['node', 'bench', '--seconds', 'abc'])).toThrow('--seconds takes a number (got "abc")');
    expect(() => numberOption('--seconds', 8, ['node', 'bench', '--seconds'])).toThrow('--seconds takes a number (got "")');
  });
});
