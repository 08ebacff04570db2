import { stat } from 'node:fs/promises'

/** Does anything exist at this path? */
export async function pathExists (path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

/** A write failed because the disk (or the user's quota on it) is full. */
export function isDiskFull (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}
