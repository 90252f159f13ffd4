/**
 * What the request pipeline works with: a loaded site and its surroundings
 * (logger, client build, render cache, remote fetcher). Types only, so the
 * dispatcher, the endpoints and the adapters share it without importing each
 * other.
 */
import type { AssetStore } from './assets/store.ts';
import type { PublicFiles } from './assets/public.ts';
import type { PageEnvironment } from './render/page.ts';

/** What the handler works with. */
export interface Engine extends PageEnvironment {
  /** The built client files, served at `/_atoll/assets/` (none: not built). */
  assets?: AssetStore;
  /** The site's `public/` files, served at the root (see assets/public.ts). */
  publicFiles?: PublicFiles;
  /** Compress HTML for clients that accept br or gzip (default true; Node adapter). */
  compress?: boolean;
  /** The URL of an element's client module, when there is a build. */
  moduleUrl?: (tag: string) => string | undefined;
  /** The bearer token of `POST /_atoll/cache/purge` (none: that endpoint answers 404). */
  purgeToken?: string;
}
