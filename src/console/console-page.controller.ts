import { Controller, Get, Headers, NotFoundException, Param, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type ConsoleAsset, loadConsoleAssets } from './console-assets';
import { CONSOLE_HEADERS } from './console-headers';

/**
 * The operator console's files at /console: a single page (hash routes, #/events/1042) and its
 * hashed script and style. The admin key never reaches these routes: the page keeps it in the tab's
 * sessionStorage and sends it to /admin/* only, in the Authorization header.
 */
@ApiExcludeController()
@Controller('console')
export class ConsolePageController {
  private assets: Map<string, ConsoleAsset> | null = null;

  @Get()
  page(@Headers('accept-encoding') encoding: string | undefined, @Res() reply: FastifyReply): void {
    this.send(reply, 'index.html', encoding);
  }

  @Get('assets/:name')
  asset(
    @Param('name') name: string,
    @Headers('accept-encoding') encoding: string | undefined,
    @Res() reply: FastifyReply,
  ): void {
    this.send(reply, `assets/${name}`, encoding);
  }

  private send(reply: FastifyReply, path: string, encoding: string | undefined): void {
    // Loaded on first use, so a build made after the service started (tests, `nest start --watch`) is found.
    this.assets ??= loadConsoleAssets();
    if (!this.assets) {
      throw new ServiceUnavailableException('The console is not built: run `npm run build` (it writes dist/console)');
    }
    const asset = this.assets.get(path);
    if (!asset) throw new NotFoundException(`No console file ${path.slice(0, 80)}`);
    const gzip = /\bgzip\b/.test(encoding ?? '');
    void reply
      .headers(CONSOLE_HEADERS)
      .header('content-type', asset.type)
      .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('vary', 'accept-encoding')
      .header('content-encoding', gzip ? 'gzip' : 'identity')
      .send(gzip ? asset.gzip : asset.body);
  }
}
