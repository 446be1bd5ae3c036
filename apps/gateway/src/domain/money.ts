/**
 * Money is a decimal number with at most 2 places in JSON and an integer of minor units inside.
 * Conversion is exact for every amount that has at most 2 decimal places.
 */
export function toMinorUnits(amount: number): number | undefined {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) return undefined;
  const minor = Math.round(amount * 100);
  // 0.1 * 100 is 10.000000000000002: accept float noise, refuse a real third decimal place.
  if (Math.abs(minor - amount * 100) > 1e-6 * Math.max(1, amount)) return undefined;
  return Number.isSafeInteger(minor) ? minor : undefined;
}

export function fromMinorUnits(minor: number): number {
  return Math.round(minor) / 100;
}
