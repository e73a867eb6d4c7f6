/**
 * Nesting depth of JSON values: a record is attacker-controlled, and JSON.parse builds values
 * of any depth (it is iterative) while JSON.stringify and every recursive walk overflow the
 * stack somewhere past a few thousand levels. What the engine and its writers share:
 *
 * - MAX_JSON_DEPTH: rules look at most this many levels into a record (the record itself is
 *   level 1), and a value that cannot be written as it is keeps this many levels.
 * - stringifyDeep: JSON.stringify, with an iterative fallback when the value is too deep for
 *   it (the same text, whatever the depth).
 * - truncateDeep: a copy in which every container nested deeper than the limit is replaced by
 *   a marker string; what a writer emits when the value cannot be written whole.
 * - exceedsDepth: whether a value is nested deeper than a limit (iterative, stops early).
 *
 * JSON.stringify is tried first everywhere: a value of normal depth costs nothing more.
 */

/** Levels of nesting rules read and writers keep at most; a record is level 1. */
export const MAX_JSON_DEPTH = 64;

/** What replaces a container nested deeper than MAX_JSON_DEPTH levels when a value is truncated. */
export const TRUNCATED_MARKER = `[truncated: nested deeper than ${MAX_JSON_DEPTH} levels]`;

/** True for the RangeError JSON.stringify or a recursive walk throws when the stack is exhausted. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** True when some container inside `value` is nested deeper than `maxDepth` levels (`value` itself is level 1). */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const node = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        if (!Object.hasOwn(node, key)) continue;
        const child = (node as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** What truncateDeep made of a value: the copy, and how many containers it replaced. */
export interface Truncated<T> {
  value: T;
  truncated: number;
}

/**
 * A copy of `value` keeping `maxDepth` levels (`value` itself is level 1): every array or
 * object deeper is replaced by `marker`. Values with toJSON (dates) are converted first, as
 * JSON.stringify would. The recursion is at most `maxDepth` deep.
 */
export function truncateDeep<T>(value: T, maxDepth: number = MAX_JSON_DEPTH, marker: string = TRUNCATED_MARKER): Truncated<T> {
  const state = { truncated: 0 };
  const copy = copyWithin(value, '', 1, maxDepth, marker, state) as T;
  return { value: copy, truncated: state.truncated };
}

function copyWithin(value: unknown, key: string, depth: number, maxDepth: number, marker: string, state: { truncated: number }): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return copyWithin((json as (key: string) => unknown).call(value, key), key, depth, maxDepth, marker, state);
  if (depth > maxDepth) {
    state.truncated += 1;
    return marker;
  }
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyWithin(value[i], String(i), depth + 1, maxDepth, marker, state);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(value)) out[name] = copyWithin((value as Record<string, unknown>)[name], name, depth + 1, maxDepth, marker, state);
  return out;
}

/**
 * JSON.stringify(value), whatever the depth: when JSON.stringify overflows the stack, the same
 * text is built iteratively. For plain data (what JSON.parse returns, alerts, envelopes).
 */
export function stringifyDeep(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!isStackOverflow(error)) throw error;
  }
  return stringifyIteratively(value);
}

interface Frame {
  node: object;
  /** Array: the element count; object: the own enumerable keys. */
  keys: readonly string[] | number;
  next: number;
  /** Something was written inside (a comma goes before the next member). */
  wrote: boolean;
}

/** The value JSON.stringify writes for `value` under `key`: toJSON applied, or undefined when it writes nothing. */
function jsonValue(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null) {
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return (json as (key: string) => unknown).call(value, key);
  }
  return value;
}

function isWritten(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

function stringifyIteratively(root: unknown): string | undefined {
  const top = jsonValue(root, '');
  if (!isWritten(top)) return undefined;
  if (typeof top !== 'object' || top === null) return JSON.stringify(top);
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = new Set<object>();
  const enter = (node: object): void => {
    if (open.has(node)) throw new TypeError('Converting circular structure to JSON');
    open.add(node);
    if (Array.isArray(node)) {
      out.push('[');
      stack.push({ node, keys: node.length, next: 0, wrote: false });
    } else {
      out.push('{');
      stack.push({ node, keys: Object.keys(node), next: 0, wrote: false });
    }
  };
  enter(top);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const array = typeof frame.keys === 'number';
    const count = array ? (frame.keys as number) : (frame.keys as readonly string[]).length;
    if (frame.next >= count) {
      out.push(array ? ']' : '}');
      open.delete(frame.node);
      stack.pop();
      continue;
    }
    const index = frame.next++;
    const key = array ? String(index) : ((frame.keys as readonly string[])[index] as string);
    const child = jsonValue((frame.node as Record<string, unknown>)[key], key);
    if (array) {
      if (frame.wrote) out.push(',');
      frame.wrote = true;
      if (!isWritten(child)) {
        out.push('null');
        continue;
      }
    } else {
      if (!isWritten(child)) continue;
      out.push(frame.wrote ? ',' : '', JSON.stringify(key), ':');
      frame.wrote = true;
    }
    if (typeof child === 'object' && child !== null) enter(child);
    else out.push(JSON.stringify(child) as string);
  }
  return out.join('');
}
