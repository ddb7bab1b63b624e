// Rows derived from a snapshot are kept with the snapshot (or with the model object they come
// from), never in a module-wide slot: two states on two snapshots (a replay step, a test) do not
// evict each other, and what was derived goes when its snapshot does.

/**
 * `derive(owner, ...parts)`, remembered per owner for the parts last asked of it (compared by
 * identity: states replace what changes), so a key press that changes none of them derives nothing.
 */
export function perOwner<Owner extends object, Parts extends readonly unknown[], T>(
  derive: (owner: Owner, ...parts: Parts) => T,
): (owner: Owner, ...parts: Parts) => T {
  const last = new WeakMap<Owner, { parts: Parts; value: T }>();
  return (owner, ...parts) => {
    const kept = last.get(owner);
    if (kept && kept.parts.every((part, i) => part === parts[i])) return kept.value;
    const value = derive(owner, ...parts);
    last.set(owner, { parts, value });
    return value;
  };
}
