// The host site: its own elements (elements/site-header.ts) and the
// versions of team elements that the server import map on the CDN names.
// CDN_URL and PORT let the demo and its test pick free ports.
const cdn = process.env.CDN_URL ?? 'http://127.0.0.1:4400';

export default {
  port: Number(process.env.PORT ?? 4401),
  deploys: {
    importMap: `${cdn}/importmap.json`,
    allow: [new URL(cdn).origin],
    // A demo: look for a new map every second (the default is 30 s).
    pollInterval: '1s',
  },
};
