import { NoNodeError, RemoteError } from '../api/client.js'
import { describeError } from '../errors.js'

/** Exit codes of the contract. */
export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
export const EXIT_DEGRADED = 3

/** A usage error found after parsing (a malformed argument). */
export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
}

/** Ends a command with an exit code, after it printed what it had to say. */
export class ExitCode extends Error {
  constructor (readonly code: number) {
    super(`exit ${code}`)
  }
}

const USAGE_NAMES = new Set(['UsageError', 'InvalidArgumentError'])

/** Print one line for an error and pick the exit code. */
export function reportError (err: unknown): number {
  if (err instanceof ExitCode) return err.code
  const name = (err as Error)?.name
  // a full disk named as such, and no 'Error: ' of a wrapped error repeated
  const { message } = describeError(err)
  // the contract gives the no-node line verbatim; every other failure is prefixed
  const line = err instanceof NoNodeError ? message.split('\n')[0] : `error: ${message.split('\n')[0]}`
  process.stderr.write(`${line}\n`)
  if (process.env.DEBUG != null && err instanceof Error && !(err instanceof RemoteError) && !(err instanceof NoNodeError)) {
    process.stderr.write(`${err.stack ?? ''}\n`)
  }
  if (USAGE_NAMES.has(name)) return EXIT_USAGE
  return EXIT_FAILED
}
