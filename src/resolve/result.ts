// One result type for the resolve stage's fallible steps: a value, or why not.
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
