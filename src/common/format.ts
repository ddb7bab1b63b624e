// Number formatting shared by the views and by check's verdicts.

/** A share of a limit as a whole percentage; a share above zero but under 1% says so. */
export function percent(used: number, limit: number): string {
  const value = (100 * used) / limit;
  return value > 0 && value < 1 ? '<1%' : `${Math.round(value)}%`;
}

/**
 * A count (or rate) as en-US writes it, "1,048,576" or "12.5": thousands grouped, at most three
 * decimals. Not toLocaleString: its first call sets up ICU's number formatting, 20–25 ms of a
 * one-shot run that prints a few counts.
 */
export function grouped(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [whole, fraction] = Math.abs(n).toFixed(3).split('.') as [string, string];
  const head = whole.length % 3 || 3;
  let text = whole.slice(0, head);
  for (let at = head; at < whole.length; at += 3) text += `,${whole.slice(at, at + 3)}`;
  const decimals = fraction.replace(/0+$/, '');
  if (decimals !== '') text += `.${decimals}`;
  return n < 0 && text !== '0' ? `-${text}` : text;
}
