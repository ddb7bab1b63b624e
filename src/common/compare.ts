// One order for text everywhere: by UTF-16 code unit, as `<` compares strings. localeCompare made
// the order depend on the machine's locale (so `-b -s user` and the screen could disagree between
// nodes) and costs a collator call per comparison.
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
