import { describe, expect, it } from 'vitest';
import { CommError } from '@comm/protocol';
import { HandlerLoadError } from '@comm/server-core';
import { deserializeError, MechanismUnavailableError, serializeError, WorkerFailedError } from './errors.js';

describe('errors', () => {
  it('are CommErrors with a stable code and name', () => {
    const cases: [CommError, string, string][] = [
      [new HandlerLoadError('file:///h.mjs', 'boom'), 'COMM_HANDLER_LOAD_FAILED', 'HandlerLoadError'],
      [new MechanismUnavailableError('transfer', ['main-thread-io']), 'COMM_MECHANISM_UNAVAILABLE', 'MechanismUnavailableError'],
      [new WorkerFailedError(1, 'gone'), 'COMM_WORKER_FAILED', 'WorkerFailedError'],
    ];
    for (const [error, code, name] of cases) {
      expect(error).toBeInstanceOf(CommError);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
    }
    expect(new HandlerLoadError('file:///h.mjs', 'boom').message).toBe('cannot load handler module file:///h.mjs: boom');
  });

  it('keep name, message, code and stack across a thread boundary', () => {
    const original = Object.assign(new SyntaxError('bad token'), { code: 'ERR_X' });
    const copy = deserializeError(structuredClone(serializeError(original)));
    expect(copy).toMatchObject({ name: 'SyntaxError', message: 'bad token', code: 'ERR_X', stack: original.stack });
    expect(deserializeError(serializeError('a string')).message).toBe('non-error thrown: a string');
  });
});
