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

/** Error message of anything thrown, without a stack. */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
