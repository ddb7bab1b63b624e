/**
 * An empty array in V8's elements kind for objects (PACKED_ELEMENTS). `[]` begins in the kind for
 * small integers and changes kind at its first object. A scan's result arrays get their first
 * element deep in a scan, in code V8 has optimized on the arrays of earlier scans: its push then
 * checks for a small integer at that first element of each scan, throws the optimized code away,
 * and V8 compiles it again (35–50 ms of CPU for the scanner's readProcess, every few scans, while
 * the screen or the bench scans again and again). An array that begins in the objects' kind never
 * changes kind.
 */
export function objectArray<T extends object | string>(): T[] {
  const array = [undefined] as unknown as T[];
  array.length = 0;
  return array;
}
