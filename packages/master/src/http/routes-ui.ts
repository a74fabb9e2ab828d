/**
 * The web UI's static files (built into packages/master/dist/ui by the UI build): `/` answers
 * index.html, `/ui/<file>` the files, and any other `/ui/…` path index.html again, so that the
 * UI's client-side routes survive a reload (SPA fallback). Assets are referenced as `/ui/…`.
 * Without a build, `/` says so in one line.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const UI_NOT_BUILT = 'The Agora web UI was not built (no packages/master/dist/ui); the JSON API is served here (try /state).\n';

/** True when `dir` holds a built UI. */
export function uiBuilt(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Registers the UI routes; true when the built UI is served (reply.sendFile exists). */
export async function uiRoutes(app: FastifyInstance, uiDir: string): Promise<boolean> {
  if (!uiBuilt(uiDir)) {
    const notBuilt = async (_req: unknown, reply: { type(t: string): unknown }): Promise<string> => {
      reply.type('text/plain; charset=utf-8');
      return UI_NOT_BUILT;
    };
    app.get('/', notBuilt);
    app.get('/ui', notBuilt);
    app.get('/ui/*', notBuilt);
    return false;
  }
  await app.register(fastifyStatic, { root: uiDir, prefix: '/ui/', wildcard: true, index: ['index.html'] });
  // index.html is never cached: it names the (hashed or not) assets of the current build.
  const index = async (_req: unknown, reply: { sendFile(f: string, o: object): unknown }): Promise<unknown> => reply.sendFile('index.html', { maxAge: 0, immutable: false });
  app.get('/', index);
  app.get('/ui', index);
  return true;
}

/** SPA fallback: unknown GET /ui/… paths get index.html when the UI is built. */
export function isUiPath(url: string): boolean {
  return url === '/ui' || url.startsWith('/ui/');
}
