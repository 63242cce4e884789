import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError } from './platform/config';

/** What to fix when the server cannot listen on HOST:PORT, by the system's error code. */
const LISTEN_PROBLEMS: Record<string, (host: string, port: number) => string> = {
  EADDRINUSE: (host, port) =>
    `Port ${port} on ${host} is already in use (EADDRINUSE): stop the process using it, or set PORT to a free port`,
  EACCES: (host, port) =>
    `Port ${port} on ${host} needs privileges this process does not have (EACCES): set PORT above 1023`,
  EADDRNOTAVAIL: (host) =>
    `HOST ${host} is not an address of this machine (EADDRNOTAVAIL): set HOST to one of its addresses, or 0.0.0.0 for all`,
  ENOTFOUND: (host) =>
    `HOST ${host} does not resolve (ENOTFOUND): set HOST to an address of this machine, or 0.0.0.0 for all`,
  EAI_AGAIN: (host) =>
    `HOST ${host} does not resolve (EAI_AGAIN): set HOST to an address of this machine, or 0.0.0.0 for all`,
};

/** The URL a client reaches the bound address on: `http://127.0.0.1:3000`, `http://[::1]:3000`. */
export function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Listens on HOST:PORT and returns the URL it listens on. A port taken, a port that needs root or
 * a HOST that is not this machine's becomes a ConfigError naming the setting to change.
 */
export async function listen(app: NestFastifyApplication, host: string, port: number): Promise<string> {
  try {
    await app.listen(port, host);
  } catch (error) {
    const problem = LISTEN_PROBLEMS[(error as NodeJS.ErrnoException).code ?? ''];
    throw problem ? new ConfigError(problem(host, port)) : error;
  }
  return urlOf(app.getHttpServer().address() as AddressInfo);
}
