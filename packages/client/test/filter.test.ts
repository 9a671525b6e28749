import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { runFilter } from '../src/filter.js';
import { track } from '@comm/test-helpers';
import { cleanUp, startNodeEcho } from './helpers.js';

afterEach(cleanUp);

describe('runFilter: a bad input line', () => {
  it.each([
    ['too long', `short\n${'x'.repeat(11)}\nnever\n`, 'COMM_LINE_TOO_LONG'],
    [
      'not UTF-8',
      Buffer.concat([Buffer.from('short\n'), Buffer.from([0xff, 0x0a]), Buffer.from('never\n')]),
      'COMM_INVALID_UTF8',
    ],
  ])(
    '%s: COMM_INPUT_LINE_INVALID with the line number, the reason as cause; the lines before it answered',
    async (_, input, cause) => {
      const echo = await startNodeEcho();
      const client = track(await connect('127.0.0.1', echo.port));
      const output = new PassThrough();
      let printed = '';
      output.setEncoding('utf8').on('data', (text: string) => (printed += text));
      const failure = await runFilter(client, Readable.from([Buffer.from(input)]), output, { maxLineLength: 10 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'COMM_INPUT_LINE_INVALID', lineNumber: 2, cause: { code: cause } });
      expect(printed).toBe('short\n');
    },
  );
});
