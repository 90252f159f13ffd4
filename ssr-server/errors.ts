/**
 * Errors that a site author can act on. Every problem found while loading a
 * site (layouts, registry, config) carries the file and, where known, the line
 * and column, and is printed as `file:line:col: message`.
 */

/** Where in a source file something is. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
}

/** One problem found in a site's files. */
export interface SiteProblem extends SourceLocation {
  message: string;
  /** A warning about a dashed tag the registry does not know (a client-only element): that tag. */
  unknownTag?: string;
}

/** Line and column (1-based) of a character offset in `text`. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Formats a location as `file:line:col` (omitting what is unknown). */
export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) {
    s += `:${loc.line}`;
    if (loc.col !== undefined) s += `:${loc.col}`;
  }
  return s;
}

/** Formats one problem as the single line that `atoll check` prints. */
export function formatProblem(p: SiteProblem): string {
  return `${formatLocation(p)}: ${p.message}`;
}

/**
 * Thrown at start-up when a site cannot be served. Holds every problem found,
 * not only the first, so one `atoll check` run shows them all.
 */
export class SiteError extends Error {
  readonly problems: readonly SiteProblem[];
  constructor(problems: readonly SiteProblem[]) {
    super(
      problems.length === 1
        ? formatProblem(problems[0]!)
        : `${problems.length} problems in the site:\n` + problems.map(formatProblem).join('\n'),
    );
    this.name = 'SiteError';
    this.problems = problems;
  }
}

/** Collects problems while a site loads; throws them together at the end. */
export class ProblemList {
  readonly errors: SiteProblem[] = [];
  readonly warnings: SiteProblem[] = [];
  error(loc: SourceLocation, message: string): void {
    this.errors.push({ ...loc, message });
  }
  warn(loc: SourceLocation, message: string, detail: Pick<SiteProblem, 'unknownTag'> = {}): void {
    this.warnings.push({ ...loc, message, ...detail });
  }
  /** Throws a {@link SiteError} if any error was collected. */
  throwIfAny(): void {
    if (this.errors.length > 0) throw new SiteError(this.errors);
  }
}
