// objectArray: an empty array already in V8's elements kind for objects, so that its first object
// does not change its kind under code optimized for arrays of objects (scanner.ts's ScanPass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { objectArray } from '../../src/common/object-array.js';

setFlagsFromString('--allow-natives-syntax');
// Compiled after the flag is set: V8's own answers about an array's elements kind.
const hasObjectElements = new Function('array', 'return %HasObjectElements(array)') as (array: unknown[]) => boolean;
const hasSmiElements = new Function('array', 'return %HasSmiElements(array)') as (array: unknown[]) => boolean;
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;

test('objectArray is empty and in the objects’ elements kind, where [] is in the small integers’', () => {
  const array = objectArray<{ pid: number }>();
  assert.equal(array.length, 0);
  assert.deepEqual([...array], []);
  assert.ok(hasObjectElements(array));
  assert.ok(!hasSmiElements(array));
  assert.ok(hasSmiElements([]), 'the kind objectArray avoids');
});

test('objectArray keeps its kind (its map) when its first object or string comes', () => {
  for (const first of [{ pid: 1 }, 'a string']) {
    const array = objectArray<object | string>();
    const before = objectArray<object | string>();
    array.push(first);
    assert.ok(haveSameMap(array, before));
    assert.deepEqual(array, [first]);
  }
});
