/**
 * Native jobs read their input arrays in place, off the JS thread. Memory another thread can write while a
 * job runs (a SharedArrayBuffer) is therefore not accepted: callers copy it first (`new Float32Array(x)`).
 */
import { DTypeError } from '../errors.js';

export function requireUnshared<T extends ArrayBufferView>(v: T, name: string): T {
  if (typeof SharedArrayBuffer !== 'undefined' && v.buffer instanceof SharedArrayBuffer) {
    throw new DTypeError(`${name}: arrays over a SharedArrayBuffer are not supported; copy into a plain typed array first`, name);
  }
  return v;
}
