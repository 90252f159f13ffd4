// Real component libraries as Atoll microfrontends (SPEC 2: a registry entry
// names a package module; the client build bundles the same module, with
// Atoll's one copy of Lit). Installed by `npm ci` in this folder (the slow
// suite's script does it); checked in three engines by
// test/slow/components-browser.test.ts.
const material = {
  'md-dialog': 'dialog/dialog.js',
  'md-menu': 'menu/menu.js',
  'md-menu-item': 'menu/menu-item.js',
  'md-tabs': 'tabs/tabs.js',
  'md-primary-tab': 'tabs/primary-tab.js',
  'md-outlined-select': 'select/outlined-select.js',
  'md-select-option': 'select/select-option.js',
  'md-checkbox': 'checkbox/checkbox.js',
  'md-outlined-text-field': 'textfield/outlined-text-field.js',
  'md-focus-ring': 'focus/md-focus-ring.js',
  'md-filled-button': 'button/filled-button.js',
};
const shoelace = ['dialog', 'dropdown', 'menu', 'menu-item', 'tab-group', 'tab', 'tab-panel', 'select', 'option', 'checkbox', 'input'];

export default {
  elements: {
    ...Object.fromEntries(Object.entries(material).map(([tag, file]) => [tag, { module: `@material/web/${file}` }])),
    ...Object.fromEntries(shoelace.map((name) => [`sl-${name}`, { module: `@shoelace-style/shoelace/dist/components/${name}/${name}.js` }])),
    // qr-creator assigns `self.QrCreator` at import, so sl-qr-code needs the server-side shims
    // (docs/ssr-shims.md). Shims are process-wide: every element above is imported and rendered
    // with them too. "window" alone is not enough: with a `window` but no `document`, Shoelace's
    // tab-group module takes its browser path at import and throws (serve refuses to start).
    'sl-qr-code': { module: '@shoelace-style/shoelace/dist/components/qr-code/qr-code.js', shims: true },
  },
};
