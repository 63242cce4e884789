import { request } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/**
 * One HTTP/1.1 request with node:http, the path sent exactly as given (fetch would normalise
 * `..` and percent-escapes away), a fresh connection each time.
 */
export function rawRequest(options: {
  port: number;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        method: options.method ?? 'POST',
        path: options.path,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface TrickleResult {
  /** How long the server kept the connection open. */
  closedAfterMs: number;
  /** Whether the trickle was still going when the server closed the connection. */
  cutOff: boolean;
  /** Whatever the server answered before closing (a 408, or nothing). */
  answer: string;
}

/**
 * A slow-loris client: opens a connection, writes `head` (request line and headers) then the
 * body one byte every `everyMs`, or, with `trickleHeaders`, the head itself byte by byte. Stops
 * on its own after `giveUpMs`; reports whether the server cut it off first.
 */
export function trickle(options: {
  port: number;
  head: string;
  body: string;
  everyMs: number;
  giveUpMs: number;
  trickleHeaders?: boolean;
}): Promise<TrickleResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(options.port, '127.0.0.1');
    const pending = options.trickleHeaders ? options.head + options.body : options.body;
    let sent = 0;
    let answer = '';
    let gaveUp = false;
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      if (!options.trickleHeaders) socket.write(options.head);
    });
    const timer = setInterval(() => {
      if (sent < pending.length && !socket.destroyed) socket.write(pending[sent++]);
    }, options.everyMs);
    const giveUp = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, options.giveUpMs);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, cutOff: !gaveUp, answer });
    });
  });
}

/** Resident set size of a process (Linux `/proc/<pid>/status`, VmRSS), in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
