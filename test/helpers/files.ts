import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG_PATH } from '../../src/repo/config.js'

/** The chunk size of the shipped config, which the nodes of the e2e tests use. */
export const CHUNK: number = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')).chunking.size

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

/** Total bytes of the chunk files in a repo's store. */
export async function storedBytes (repo: string): Promise<number> {
  let total = 0
  for (const cid of await storedChunks(repo)) total += (await stat(chunkPath(repo, cid)).catch(() => ({ size: 0 }))).size
  return total
}

/** Each stored chunk of a repo with its size in bytes. */
export async function storedSizes (repo: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const cid of await storedChunks(repo)) {
    const st = await stat(chunkPath(repo, cid)).catch(() => undefined)
    if (st != null) out.set(cid, st.size)
  }
  return out
}
