// Number formatting shared by the views and by check's verdicts.

/** A share of a limit as a whole percentage; a share above zero but under 1% says so. */
export function percent(used: number, limit: number): string {
  const value = (100 * used) / limit;
  return value > 0 && value < 1 ? '<1%' : `${Math.round(value)}%`;
}
