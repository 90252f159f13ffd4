/**
 * The visitor's preferences, kept in `localStorage` (browser only).
 *
 * Nothing here may run during server rendering: call these functions from
 * event handlers, `firstUpdated` or a `connectedCallback` guarded by
 * `isServer`. Storage errors (private mode, blocked storage) are ignored.
 */

/** Colour theme; `system` follows `prefers-color-scheme`. */
export type Theme = 'system' | 'light' | 'dark';

/** What the settings page stores. */
export interface Prefs {
  theme: Theme;
  newsletter: boolean;
}

const KEY = 'atoll-shop:prefs';

/** The default preferences, also what the server renders. */
export const defaultPrefs: Readonly<Prefs> = { theme: 'system', newsletter: false };

/** Type guard for a stored theme value. */
export function isTheme(value: unknown): value is Theme {
  return value === 'system' || value === 'light' || value === 'dark';
}

/** The stored preferences, or the defaults. */
export function loadPrefs(): Prefs {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Prefs>;
    return {
      theme: isTheme(stored.theme) ? stored.theme : defaultPrefs.theme,
      newsletter: stored.newsletter === true,
    };
  } catch {
    return { ...defaultPrefs };
  }
}

/** Stores the preferences. */
export function savePrefs(prefs: Prefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Storage unavailable: the choice lasts for this page only.
  }
}

/** Applies a theme to the page: `data-theme` on `<html>`, read by the layout's CSS. */
export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = theme;
}
