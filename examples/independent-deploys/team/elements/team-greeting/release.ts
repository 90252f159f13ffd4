// deploy.mjs writes this file in its copy of team/ with the release it
// deploys (the stand-in for a team's CI stamping its build); this is the
// value for working on the element locally.
export const RELEASE = 'dev';
