// One result type for fallible steps: a value, or why not. The resolve stage's steps return it,
// and so does every system call binding (src/sys): the calls, or why they are unavailable here.
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
