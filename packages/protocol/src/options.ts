// `@comm/protocol/options`: the one option dialect of every comm command and library. Each
// option is declared once, in a table, with its kind, flag, default, range and one line of help;
// the same table validates the library's options, parses the command line and writes `--help`.
// The client's command and both servers' commands use it, so `30s` and `64KiB` mean the same
// everywhere. It lives here, below the client and the servers, because both sides need it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidOptionError } from './errors.js';

/** What kind of value an option takes, and so how it is validated and parsed. */
export type OptionKind = 'duration' | 'bytes' | 'count' | 'switch' | 'choice' | 'text';

/** One option: its flag, kind, default, range and help. */
export interface OptionSpec {
  readonly kind: OptionKind;
  /** The long flag without `--`, kebab-case; omitted for an option of the library only. */
  readonly flag?: string;
  /** A one-letter flag. */
  readonly short?: string;
  /** For a `switch` whose flag turns the option off (`--nagle` sets `noDelay: false`). */
  readonly negated?: boolean;
  /** How the value is shown in `--help`, e.g. `<time>`. */
  readonly valueName?: string;
  readonly default?: number | boolean | string;
  /** Smallest and largest value of a number (`duration`, `bytes`, `count`); inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** The values of a `choice`. */
  readonly choices?: readonly string[];
  /** One line of help; the default is added to it. */
  readonly help: string;
}

/** Options by their name in the library (camelCase). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type KindValue<Spec> = Spec extends { kind: 'switch' }
  ? boolean
  : Spec extends { kind: 'choice'; choices: readonly (infer Choice)[] }
    ? Choice
    : Spec extends { kind: 'text' }
      ? string
      : number;

type ValueOf<Spec> = KindValue<Spec> | (Spec extends { default: unknown } ? never : undefined);

/** The values a table describes, each typed by its kind; `undefined` allowed where there is no default. */
export type OptionValues<Table> = { -readonly [Name in keyof Table]: ValueOf<Table[Name]> };

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};
const TIME_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseQuantity(text: string, units: Record<string, number>, flagName: string, example: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? units[(match[2] as string).toLowerCase()] : undefined;
  const value = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new InvalidOptionError(`--${flagName} expects ${example}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * A size as the commands take it: `64KiB` → 65536 (`k`/`KiB`, `m`/`MiB`, `g`/`GiB`; a bare number is bytes).
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for anything else.
 * @example
 * ```ts
 * parseByteSize('64KiB'); // 65536
 * ```
 */
export function parseByteSize(text: string, flagName = 'size'): number {
  return parseQuantity(text, SIZE_UNITS, flagName, 'a size like 65536, 64KiB or 1MiB');
}

/**
 * A time as the commands take it: `30s` → 30000 (`ms`, `s`, `m`, `h`; a bare number is milliseconds).
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for anything else.
 * @example
 * ```ts
 * parseDuration('30s'); // 30000
 * ```
 */
export function parseDuration(text: string, flagName = 'time'): number {
  return parseQuantity(text, TIME_UNITS, flagName, 'a time like 500, 500ms, 30s or 5m');
}

function rangeText(spec: OptionSpec): string {
  const min = spec.min ?? 0;
  return spec.max === undefined ? `>= ${min}` : `from ${min} to ${spec.max}`;
}

const UNIT_OF: Partial<Record<OptionKind, string>> = { duration: ' of milliseconds', bytes: ' of bytes' };

/**
 * Checks one library option against its spec; `undefined` gives the default.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) naming the option and the value.
 * @example
 * ```ts
 * checkOption('lineTimeout', { kind: 'duration', help: '...' }, 500); // 500
 * ```
 */
export function checkOption(name: string, spec: OptionSpec, value: unknown): unknown {
  if (value === undefined) return spec.default;
  switch (spec.kind) {
    case 'switch':
      if (typeof value !== 'boolean') throw new InvalidOptionError(`${name} must be true or false, got ${String(value)}`);
      return value;
    case 'choice':
      if (typeof value !== 'string' || !(spec.choices ?? []).includes(value)) {
        throw new InvalidOptionError(`${name} must be ${(spec.choices ?? []).join(' or ')}, got ${JSON.stringify(value)}`);
      }
      return value;
    case 'text':
      if (typeof value !== 'string' || value === '') {
        throw new InvalidOptionError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
      }
      return value;
    case 'duration':
    case 'bytes':
    case 'count': {
      const min = spec.min ?? 0;
      if (
        typeof value !== 'number' ||
        !Number.isSafeInteger(value) ||
        value < min ||
        (spec.max !== undefined && value > spec.max)
      ) {
        const off = spec.kind === 'duration' && min === 0 ? ' (0 = off)' : '';
        throw new InvalidOptionError(
          `${name} must be a whole number${UNIT_OF[spec.kind] ?? ''} ${rangeText(spec)}${off}, got ${String(value)}`,
        );
      }
      return value;
    }
  }
}

/**
 * Validates the options a table describes and fills in the defaults; names not in the table are
 * left out (they belong to someone else). Options without a default stay `undefined` when not given.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for the first bad value.
 * @example
 * ```ts
 * const table = { lineTimeout: { kind: 'duration', default: 30_000, help: 'R13' } } as const;
 * resolveOptions(table, {}); // { lineTimeout: 30000 }
 * ```
 */
export function resolveOptions<Table extends OptionTable>(
  table: Table,
  options: Partial<Record<keyof Table, unknown>>,
): OptionValues<Table> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) values[name] = checkOption(name, spec, options[name as keyof Table]);
  return values as OptionValues<Table>;
}

/** Reads the text of a flag as its option's kind. */
function parseFlagValue(spec: OptionSpec & { flag: string }, text: string): number | string {
  switch (spec.kind) {
    case 'duration':
      return parseDuration(text, spec.flag);
    case 'bytes':
      return parseByteSize(text, spec.flag);
    case 'count':
      if (!/^\d+$/.test(text)) throw new InvalidOptionError(`--${spec.flag} expects a whole number, got ${JSON.stringify(text)}`);
      return Number(text);
    case 'choice':
      if (!(spec.choices ?? []).includes(text)) {
        throw new InvalidOptionError(`--${spec.flag} expects ${(spec.choices ?? []).join(' or ')}, got ${JSON.stringify(text)}`);
      }
      return text;
    case 'text':
    case 'switch':
      return text;
  }
}

/** What {@link parseCommandLine} read. */
export interface ParsedCommandLine<Table> {
  /** `--help` or `-h` was given (nothing else is checked then). */
  readonly help: boolean;
  /** `--version` or `-v` was given. */
  readonly version: boolean;
  /** The options given, by their library name; those not given are absent. */
  readonly options: Partial<OptionValues<Table>>;
  readonly positionals: readonly string[];
}

/** `--help` and `--version`, the same in every comm command. */
const META_FLAGS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function flagged(table: OptionTable): [string, OptionSpec & { flag: string }][] {
  return Object.entries(table).filter((entry): entry is [string, OptionSpec & { flag: string }] => entry[1].flag !== undefined);
}

/**
 * Parses a command line against a table: `--flag value`, `--flag=value`, one-letter flags, and
 * `--help`/`-h`, `--version`/`-v` in every command. Values are read by kind (`30s`, `64KiB`).
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for an unknown flag, a missing or bad
 *   value, or more positionals than `maxPositionals`.
 * @example
 * ```ts
 * parseCommandLine(SERVER_OPTIONS, ['--port', '0', '--line-timeout', '10s']).options;
 * // { port: 0, lineTimeout: 10000 }
 * ```
 */
export function parseCommandLine<Table extends OptionTable>(
  table: Table,
  argv: readonly string[],
  { maxPositionals = 0 }: { maxPositionals?: number } = {},
): ParsedCommandLine<Table> {
  const specs = flagged(table);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(
          specs.map(([, spec]) => [
            spec.flag,
            { type: spec.kind === 'switch' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}) } as const,
          ]),
        ),
        ...META_FLAGS,
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new InvalidOptionError((error as Error).message.split('\n')[0] as string);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  const version = values.version === true;
  const options: Record<string, unknown> = {};
  if (help || version)
    return { help, version, options: options as Partial<OptionValues<Table>>, positionals: parsed.positionals };
  for (const [name, spec] of specs) {
    const value = values[spec.flag];
    if (value === undefined) continue;
    options[name] =
      spec.kind === 'switch' ? !spec.negated : checkOption(`--${spec.flag}`, spec, parseFlagValue(spec, value as string));
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals);
    throw new InvalidOptionError(`unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}`);
  }
  return { help, version, options: options as Partial<OptionValues<Table>>, positionals: parsed.positionals };
}

function defaultText(spec: OptionSpec): string {
  if (spec.default === undefined || spec.kind === 'switch') return '';
  const value = spec.default;
  if (spec.kind === 'duration' && typeof value === 'number') {
    if (value === 0) return ' (default 0)';
    for (const [unit, size] of [
      ['h', 3_600_000],
      ['m', 60_000],
      ['s', 1000],
    ] as const) {
      if (value % size === 0) return ` (default ${value / size}${unit})`;
    }
    return ` (default ${value}ms)`;
  }
  if (spec.kind === 'bytes' && typeof value === 'number') {
    for (const [unit, size] of [
      ['GiB', 1024 ** 3],
      ['MiB', 1024 ** 2],
      ['KiB', 1024],
    ] as const) {
      if (value % size === 0) return ` (default ${value / size}${unit})`;
    }
  }
  return ` (default ${String(value)})`;
}

const VALUE_NAMES: Record<OptionKind, string> = {
  duration: '<time>',
  bytes: '<bytes>',
  count: '<n>',
  switch: '',
  choice: '',
  text: '<text>',
};

/**
 * The `Options:` rows of a command's `--help`, one per flag of the table, then `--help` and
 * `--version`, and a line on the units.
 *
 * @example
 * ```ts
 * console.log(`Usage: comm-server-seq [options]\n\nOptions:\n${formatOptionsHelp(SERVER_OPTIONS)}`);
 * ```
 */
export function formatOptionsHelp(table: OptionTable): string {
  const rows = flagged(table).map(([, spec]) => {
    const valueName = spec.valueName ?? (spec.kind === 'choice' ? `<${(spec.choices ?? []).join('|')}>` : VALUE_NAMES[spec.kind]);
    return [
      `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag}${valueName ? ` ${valueName}` : ''}`,
      `${spec.help}${defaultText(spec)}`,
    ];
  });
  rows.push(['-h, --help', 'show this help'], ['-v, --version', 'show the version']);
  const width = Math.max(...rows.map(([flags]) => (flags as string).length)) + 2;
  const lines = rows.map(([flags, help]) => `  ${(flags as string).padEnd(width)}${help as string}`);
  lines.push('', 'Times take ms, s, m or h (a bare number is ms); sizes take KiB, MiB or GiB (a bare number is bytes).');
  return `${lines.join('\n')}\n`;
}

/**
 * The `version` of the package.json at `url`, for a command's `--version`.
 *
 * @example
 * ```ts
 * packageVersion(new URL('../package.json', import.meta.url)); // '0.1.0'
 * ```
 */
export function packageVersion(url: URL): string {
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
