/**
 * The `default` of a switch that must handle every member of a union (a message type, a
 * mechanism): a member without its own `case` makes `value` something other than `never`, so
 * the switch no longer compiles. Reached at run time only by a value outside the type.
 *
 * @example
 * ```ts
 * switch (message.type) {
 *   case 'ready': return;
 *   default: return assertNever(message, 'worker message');
 * }
 * ```
 */
export function assertNever(value: never, what: string): never {
  const shown = typeof value === 'object' && value !== null && 'type' in value ? (value as { type: unknown }).type : value;
  throw new TypeError(`${what} not handled: ${String(shown)}`);
}
