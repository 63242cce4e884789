/**
 * Builds packages/contracts, the typed package for sibling services, from the bus's event
 * contracts (src/contracts, the one source of truth): compiles the package with the contracts it
 * imports into packages/contracts/dist (JavaScript and declarations), writes one JSON Schema per
 * routing key and an index into packages/contracts/schemas, then checks the package's typed view
 * against the contracts. Run with `npm run contracts:build`, then `npm pack` in packages/contracts.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import type { z } from 'zod';
import { EVENT_CONTRACTS, messageJsonSchema } from '../src/contracts';

const PACKAGE = 'packages/contracts';
const DIST = join(PACKAGE, 'dist');
const SCHEMAS = join(PACKAGE, 'schemas');
const PANORA_INDEX = resolve('src/panora/index.ts');
// The contracts read only Panora's event types from src/panora: the package ships that file, not
// the Panora client and its NestJS module behind src/panora/index.ts.
const PANORA_EVENT_TYPES = resolve('src/panora/panora-event-types.ts');
const SHIPPED = [resolve(PACKAGE, 'src'), resolve('src/contracts'), PANORA_EVENT_TYPES];

function fail(message: string): never {
  process.stderr.write(`contracts:build: ${message}\n`);
  process.exit(1);
}

function compile(): void {
  const read = ts.readConfigFile(join(PACKAGE, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  if (read.error) fail(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config as object, ts.sys, resolve(PACKAGE));
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: false, declaration: true, sourceMap: false };
  const host = ts.createCompilerHost(options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, compilerOptions, sourceFile) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(sourceFile, literal, compilerOptions);
      const found = ts.resolveModuleName(
        literal.text,
        containingFile,
        compilerOptions,
        host,
        undefined,
        redirected,
        mode,
      );
      const resolvedFile = found.resolvedModule?.resolvedFileName;
      if (found.resolvedModule && resolvedFile && resolve(resolvedFile) === PANORA_INDEX) {
        return { ...found, resolvedModule: { ...found.resolvedModule, resolvedFileName: PANORA_EVENT_TYPES } };
      }
      return found;
    });
  const program = ts.createProgram({ rootNames: parsed.fileNames, options, host });
  const strays = program
    .getSourceFiles()
    .filter((file) => !file.isDeclarationFile && !SHIPPED.some((dir) => resolve(file.fileName).startsWith(dir)));
  if (strays.length > 0) fail(`would ship more than the contracts: ${strays.map((f) => f.fileName).join(', ')}`);
  const emitted = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0 || emitted.emitSkipped) {
    const format: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => process.cwd(),
      getNewLine: () => '\n',
    };
    fail(`tsc failed\n${ts.formatDiagnostics(diagnostics, format)}`);
  }
  // `../panora` in the compiled contracts: the event types only.
  writeFileSync(
    join(DIST, 'src/panora/index.js'),
    '"use strict";\nmodule.exports = require("./panora-event-types");\n',
  );
  writeFileSync(join(DIST, 'src/panora/index.d.ts'), "export * from './panora-event-types';\n");
}

function writeSchemas(): void {
  mkdirSync(SCHEMAS, { recursive: true });
  const index: Record<string, { summary: string; schema: string }> = {};
  for (const contract of EVENT_CONTRACTS) {
    const file = `${contract.routingKey}.json`;
    writeFileSync(join(SCHEMAS, file), `${JSON.stringify(messageJsonSchema(contract), null, 2)}\n`);
    index[contract.routingKey] = { summary: contract.summary, schema: file };
  }
  writeFileSync(join(SCHEMAS, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
}

/** The package's typed schemas must be the contracts', key for key: no hand copy drifts. */
function checkTypedView(): void {
  const load = createRequire(__filename);
  const built = load(resolve(DIST, PACKAGE, 'src/index.js')) as { DATA_SCHEMAS: Record<string, z.ZodType> };
  const typed = Object.keys(built.DATA_SCHEMAS).sort();
  const published = EVENT_CONTRACTS.map((c) => c.routingKey).sort();
  if (JSON.stringify(typed) !== JSON.stringify(published)) {
    const missing = published.filter((key) => !typed.includes(key));
    const extra = typed.filter((key) => !published.includes(key));
    fail(
      `routing keys differ from src/contracts: missing ${missing.join(', ') || '-'}; extra ${extra.join(', ') || '-'}`,
    );
  }
  for (const contract of EVENT_CONTRACTS) {
    const own = JSON.stringify(messageJsonSchema(contract));
    const view = JSON.stringify(messageJsonSchema({ ...contract, data: built.DATA_SCHEMAS[contract.routingKey] }));
    if (own !== view) fail(`the typed schema of ${contract.routingKey} differs from its contract in src/contracts`);
  }
}

/** The package's zod is the service's, to the exact version: the schemas behave the same. */
function checkZodPin(): void {
  const version = (path: string): unknown =>
    (JSON.parse(readFileSync(path, 'utf8')) as { dependencies?: Record<string, string> }).dependencies?.zod;
  const root = version('package.json');
  const own = version(join(PACKAGE, 'package.json'));
  if (own !== root) fail(`${PACKAGE}/package.json pins zod ${String(own)}; the service uses ${String(root)}`);
}

checkZodPin();
rmSync(DIST, { recursive: true, force: true });
rmSync(SCHEMAS, { recursive: true, force: true });
compile();
writeSchemas();
checkTypedView();
process.stdout.write(`${PACKAGE}: built (${EVENT_CONTRACTS.length} routing keys); pack it with \`npm pack\` there\n`);
