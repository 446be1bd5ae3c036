/** A number's shortest decimal text (what JSON.parse read it from, less trailing zeros): digits, fraction, exponent. */
const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/**
 * Money is a decimal number with at most 2 places in JSON and an integer of minor units inside.
 * The places are counted in the number's shortest decimal text, so a third decimal place is refused at
 * any amount (999999.001 as much as 1.001), and every amount with at most 2 places converts exactly.
 */
export function toMinorUnits(amount: number): number | undefined {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) return undefined;
  const match = DECIMAL.exec(String(amount));
  if (!match) return undefined;
  const places = (match[2]?.length ?? 0) - Number(match[3] ?? 0);
  if (places > 2) return undefined;
  const minor = Math.round(amount * 100); // 0.29 * 100 is 28.999999999999996: the places are known, so rounding is exact
  return Number.isSafeInteger(minor) ? minor : undefined;
}

export function fromMinorUnits(minor: number): number {
  return Math.round(minor) / 100;
}
