import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';

export interface AdminRoute {
  method: string;
  /** As declared: `/admin/connections/:id/token`. */
  path: string;
  /** With every parameter filled in, ready to request. */
  example: string;
}

const SRC = resolve(__dirname, '../../../src');

const join2 = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p !== '')
    .join('/')}`;

/** A plausible value per route parameter: the guard runs before any of them is looked at. */
function fill(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) =>
    name === 'kind' ? 'contact' : name === 'id' ? '00000000-0000-4000-8000-000000000000' : `x-${name}`,
  );
}

/**
 * Every route of every controller under `src/` whose path starts with `admin`, read from Nest's
 * own route metadata: a controller added later is checked without touching the test.
 */
export async function adminRoutes(): Promise<AdminRoute[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.controller.ts'));
  const routes: AdminRoute[] = [];
  for (const file of files) {
    const module = (await import(join(SRC, file))) as Record<string, unknown>;
    for (const exported of Object.values(module)) {
      if (typeof exported !== 'function') continue;
      const base = Reflect.getMetadata(PATH_METADATA, exported) as string | string[] | undefined;
      if (base === undefined) continue;
      for (const prefix of Array.isArray(base) ? base : [base]) {
        if (!/^\/?admin(\/|$)/.test(prefix)) continue;
        const proto = (exported as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
          if (method === undefined || sub === undefined) continue;
          for (const tail of Array.isArray(sub) ? sub : [sub]) {
            const path = join2(prefix, tail);
            routes.push({ method: RequestMethod[method], path, example: fill(path) });
          }
        }
      }
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}
