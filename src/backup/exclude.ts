import ignore, { type Ignore } from 'ignore'

/**
 * Decides which paths a `put` leaves out (contract v2, "Excludes"). Paths
 * are those inside the snapshot: relative, '/'-separated, starting with the
 * stored name (`photos/2024/a.jpg` for a put of ~/photos).
 */
export interface Excluder {
  excludes: (path: string, isDirectory: boolean) => boolean
}

// `ignore` remembers the answer for every path it was asked about and for
// their parents, for as long as it lives. A fresh matcher after this many
// paths keeps a walk of millions of files from holding them all in memory,
// and is faster too: 100,000 paths cost about 60 ms of CPU with a fresh
// matcher per 10,000 and 90-105 ms with one matcher (a loaded 2-core VM)
const MATCHER_RESET_PATHS = 10_000

const NOTHING_EXCLUDED: Excluder = { excludes: () => false }

/**
 * Why `pattern` cannot be an exclude, for a usage error; undefined when it
 * can. Refused are patterns that gitignore would silently read as nothing
 * or as something else than typed: blank ones, comments, several lines,
 * trailing white space (dropped by gitignore unless escaped as `\ `), and
 * `./` or `../` (gitignore paths have neither; `/x` anchors at the top).
 */
export function badPattern (pattern: string): string | undefined {
  if (pattern.trim() === '') return 'an exclude pattern must not be empty'
  if (/[\r\n]/.test(pattern)) return 'an exclude pattern must be one line'
  if (pattern.startsWith('#')) return 'an exclude pattern starting with # is a comment in gitignore: write \\# for a literal #'
  if (/(^|[^\\])\s+$/.test(pattern)) return 'an exclude pattern must not end in white space, which gitignore drops: write "\\ " for a trailing space'
  const body = pattern.startsWith('!') ? pattern.slice(1) : pattern
  if (body === '' || body === '/') return `exclude pattern ${JSON.stringify(pattern)} matches nothing`
  if (/(^|\/)\.\.?(\/|$)/.test(body)) return `exclude pattern ${JSON.stringify(pattern)} has a . or .. part: paths in a snapshot have none (a leading / anchors a pattern at the top)`
  return undefined
}

/**
 * A matcher of gitignore-style patterns, case-sensitive as git is on Linux,
 * with `!` negations. As in git, a path below an excluded directory stays
 * excluded whatever negation names it: the walk does not enter the
 * directory, so `photos/raw/` with `!photos/raw/keep.jpg` still leaves
 * keep.jpg out, while `photos/raw/*` with it keeps keep.jpg.
 * Throws a RangeError for a pattern `badPattern` refuses.
 */
export function createExcluder (patterns: string[]): Excluder {
  for (const pattern of patterns) {
    const why = badPattern(pattern)
    if (why != null) throw new RangeError(why)
  }
  if (patterns.length === 0) return NOTHING_EXCLUDED
  const build = (): Ignore => ignore({ ignorecase: false }).add(patterns)
  let matcher = build()
  let tested = 0
  return {
    excludes (path, isDirectory) {
      if (++tested > MATCHER_RESET_PATHS) {
        matcher = build()
        tested = 1
      }
      // `dir/` patterns match only what is tested with a trailing slash
      return matcher.ignores(isDirectory && !path.endsWith('/') ? `${path}/` : path)
    }
  }
}
