const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Free text fields (address, payment_method, product name) take any script. The one thing refused is
 * a lone UTF-16 surrogate (JSON allows "\ud800"): it is not a character, so it cannot be stored as
 * UTF-8 and returned byte for byte.
 */
export function textProblems(fields: Record<string, string>): { field: string; message: string }[] {
  return Object.entries(fields)
    .filter(([, value]) => LONE_SURROGATE.test(value))
    .map(([field]) => ({ field, message: 'must be Unicode text (it holds a lone UTF-16 surrogate)' }));
}
