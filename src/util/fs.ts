import { stat } from 'node:fs/promises'

/** Does anything exist at this path? */
export async function pathExists (path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

/** Is there a directory at this path? */
export async function isDirectory (path: string): Promise<boolean> {
  return stat(path).then(s => s.isDirectory(), () => false)
}
