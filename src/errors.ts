/**
 * Typed errors shared across backpack. Tests and the CLI match on `name`.
 * The control API sends `{ name, message }`; the CLI maps names to exit codes.
 */
export class BackpackError extends Error {
  static override name = 'BackpackError'
  override name = 'BackpackError'
}

function define (name: string): typeof BackpackError {
  return class extends BackpackError {
    static override name = name
    override name = name
  }
}

export const InvalidConfigError = define('InvalidConfigError')
export const RepoLockedError = define('RepoLockedError')
export const RepoNotFoundError = define('RepoNotFoundError')
export const RepoExistsError = define('RepoExistsError')
export const InvalidInputError = define('InvalidInputError')
export const NotFoundError = define('NotFoundError')
export const NoSpaceError = define('NoSpaceError')
export const BadHashError = define('BadHashError')
export const FileExistsError = define('FileExistsError')
export const ProtocolError = define('ProtocolError')
export const NotOwnerError = define('NotOwnerError')
export const UnavailableError = define('UnavailableError')
export const TooLargeError = define('TooLargeError')

/** A write failed because the disk (or the user's quota on it) is full. */
export function isDiskFull (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/**
 * A full disk, as a system error or as the I/O error the datastore makes
 * of it (LevelDB's message carries the system's words).
 */
export function isNoSpace (err: unknown): boolean {
  return isDiskFull(err) || /no space left on device/i.test(errorMessage(err))
}

/**
 * What a client is told of an error: its name and message, except that a
 * full disk says so by name (`NoSpaceError`) whichever layer hit it (the
 * datastore reports it as an I/O error of its own), and a message does not
 * repeat `Error: ` from a wrapped error.
 */
export function describeError (err: unknown): { name: string, message: string } {
  const name = (err as Error | undefined)?.name ?? 'Error'
  const message = errorMessage(err).replace(/^Error: /, '')
  if (name !== 'NoSpaceError' && isNoSpace(err)) {
    return { name: 'NoSpaceError', message: `no space left on this node's disk: ${message}` }
  }
  return { name, message }
}

/** Error message of anything thrown, without a stack. */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
