/** The fragment request URL of a remote element. */

/** Builds the fragment request URL: the entry's URL plus the attributes as query parameters. */
export function fragmentUrl(base: string, attributes: ReadonlyArray<readonly [string, string]>): string {
  const url = new URL(base);
  for (const [name, value] of attributes) url.searchParams.append(name, value);
  return url.href;
}
