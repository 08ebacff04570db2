import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export async function sha256File (path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
}

/** Write `size` random bytes to `path`. */
export async function randomFile (path: string, size: number): Promise<string> {
  const bytes = randomBytes(size)
  await writeFile(path, bytes)
  return createHash('sha256').update(bytes).digest('hex')
}

/** CIDs of the chunk files in a repo's store. */
export async function storedChunks (repo: string): Promise<string[]> {
  const root = join(repo, 'chunks')
  const out: string[] = []
  for (const shard of await readdir(root).catch(() => [])) {
    if (shard === 'tmp') continue
    out.push(...await readdir(join(root, shard)).catch(() => []))
  }
  return out
}

/** Path of a stored chunk file in a repo. */
export function chunkPath (repo: string, cid: string): string {
  return join(repo, 'chunks', cid.slice(-2), cid)
}
