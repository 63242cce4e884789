/**
 * How the CLI prints: answers on standard output (JSON with --json, else the readable form),
 * progress, notes and errors on standard error; aligned tables, short dates, no colours (pipes and
 * logs stay clean).
 */
import { type Command, CommanderError } from 'commander';
import { CliError, EXIT_CODES, type ErrorKind } from './admin-client';
import { globals } from './options';

/** A line on standard output: the answer, what a pipe reads. */
export const out = (text: string) => process.stdout.write(`${text}\n`);
/** A line on standard error: notes and errors, never mixed into the answer. */
export const note = (text: string) => process.stderr.write(`${text}\n`);

/** Prints `value` as JSON with --json, else the readable form. */
export function show(command: Command, value: unknown, readable: () => string): void {
  out(globals(command).json ? JSON.stringify(value, null, 2) : readable());
}

/**
 * Reports a failure on standard error and answers the exit code. Under --json, one line
 * `{"error": {"code", "exitCode", "status", "serviceCode", "message"}}` (standard output keeps only
 * answers, so `--json … | jq` never reads an error as one); else `error: …`. Commander has already
 * printed its own usage errors in the readable form.
 */
export function reportError(error: unknown, json: boolean): number {
  let kind: ErrorKind = 'error';
  let message: string;
  let status: number | null = null;
  let serviceCode: string | null = null;
  if (error instanceof CommanderError) {
    // --help and --version end the same way, with exit code 0.
    if (error.exitCode === 0) return 0;
    kind = 'usage';
    message = error.message.replace(/^error: /, '');
  } else if (error instanceof CliError) {
    kind = error.kind;
    message = error.message;
    status = error.status ?? null;
    serviceCode = error.serviceCode ?? null;
  } else {
    // A bug: the stack helps a report, but not a script.
    message = json ? String((error as Error)?.message ?? error) : String((error as Error)?.stack ?? error);
  }
  const exitCode = EXIT_CODES[kind];
  if (json) note(JSON.stringify({ error: { code: kind, exitCode, status, serviceCode, message } }));
  else if (!(error instanceof CommanderError)) note(`error: ${message}`);
  return exitCode;
}

export type Cell = string | number | boolean | null | undefined;

/** Cuts a value to `max` characters, with an ellipsis. */
export function cut(value: string, max: number): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `2026-11-23T05:20:33.123Z` → `2026-11-23 05:20:33` (UTC). */
export function when(value: string | Date | null | undefined): string {
  if (!value) return '-';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace('T', ' ').slice(0, 19);
}

const text = (cell: Cell): string => (cell === null || cell === undefined || cell === '' ? '-' : String(cell));

/** An aligned table with a header row; `widths` caps columns (cells are cut to fit). */
export function table(headers: string[], rows: Cell[][], widths: (number | undefined)[] = []): string {
  const cells = rows.map((row) => row.map((cell, i) => (widths[i] ? cut(text(cell), widths[i]) : text(cell))));
  const size = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(size[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function fields(entries: [string, Cell][]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${text(value)}`).join('\n');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
