/**
 * How the CLI prints: answers on standard output (JSON with --json, else the readable form),
 * progress and notes on standard error; aligned tables, short dates, no colours (pipes and logs
 * stay clean).
 */
import type { Command } from 'commander';
import { globals } from './options';

/** A line on standard output: the answer, what a pipe reads. */
export const out = (text: string) => process.stdout.write(`${text}\n`);
/** A line on standard error: notes and errors, never mixed into the answer. */
export const note = (text: string) => process.stderr.write(`${text}\n`);

/** Prints `value` as JSON with --json, else the readable form. */
export function show(command: Command, value: unknown, readable: () => string): void {
  out(globals(command).json ? JSON.stringify(value, null, 2) : readable());
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
