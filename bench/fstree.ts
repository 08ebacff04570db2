// Trees on disk: what a restore must reproduce (compareTrees) and how much
// a store takes (du).
import { createHash } from 'node:crypto'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'

const READS_IN_FLIGHT = 32

export interface Entry {
  /** relative to the tree's root, '/'-separated */
  path: string
  type: 'file' | 'dir' | 'symlink' | 'other'
  /** permission bits (files and directories) */
  mode?: number
  size?: number
  sha256?: string
  target?: string
}

/** Every entry below `root` (not the root itself), sorted by path; files hashed. */
export async function walk (root: string): Promise<Entry[]> {
  const entries: Entry[] = []
  const files: Entry[] = []
  const visit = async (dir: string, rel: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const path = rel === '' ? d.name : `${rel}/${d.name}`
      const abs = join(dir, d.name)
      if (d.isSymbolicLink()) {
        entries.push({ path, type: 'symlink', target: await readlink(abs) })
      } else if (d.isDirectory()) {
        entries.push({ path, type: 'dir', mode: (await lstat(abs)).mode & 0o7777 })
        await visit(abs, path)
      } else if (d.isFile()) {
        const entry: Entry = { path, type: 'file' }
        entries.push(entry)
        files.push(entry)
      } else {
        entries.push({ path, type: 'other' })
      }
    }
  }
  await visit(root, '')
  let next = 0
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, async () => {
    while (next < files.length) {
      const entry = files[next++]
      const abs = join(root, entry.path)
      const data = await readFile(abs)
      entry.mode = (await lstat(abs)).mode & 0o7777
      entry.size = data.byteLength
      entry.sha256 = createHash('sha256').update(data).digest('hex')
    }
  }))
  return entries.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}

/**
 * undefined when the trees hold the same entries (type, permission bits,
 * content, link targets), else the first difference in path order.
 */
export async function compareTrees (a: string, b: string): Promise<string | undefined> {
  const [left, right] = await Promise.all([walk(a), walk(b)])
  const rightByPath = new Map(right.map(e => [e.path, e]))
  for (const l of left) {
    const r = rightByPath.get(l.path)
    if (r == null) return `${l.path}: missing from ${b}`
    for (const key of ['type', 'mode', 'size', 'sha256', 'target'] as const) {
      if (l[key] !== r[key]) return `${l.path}: ${key} ${fmt(l[key])} in ${a}, ${fmt(r[key])} in ${b}`
    }
    rightByPath.delete(l.path)
  }
  const extra = [...rightByPath.keys()].sort()[0]
  return extra != null ? `${extra}: in ${b} only` : undefined
}

function fmt (value: unknown): string {
  return typeof value === 'number' ? `0${value.toString(8)}` : String(value)
}

export interface Usage {
  /** apparent size: the sum of file sizes */
  bytes: number
  /** on disk, as du counts it: allocated blocks */
  disk: number
  files: number
}

/** What `dir` holds, recursively; zeros when it does not exist. */
export async function du (dir: string): Promise<Usage> {
  const usage: Usage = { bytes: 0, disk: 0, files: 0 }
  const visit = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => [])
    await Promise.all(entries.map(async d => {
      const abs = join(path, d.name)
      if (d.isDirectory()) return visit(abs)
      const s = await lstat(abs).catch(() => undefined)
      if (s == null) return
      usage.bytes += s.size
      usage.disk += s.blocks * 512
      usage.files++
    }))
  }
  await visit(dir)
  return usage
}

/** Sum of several usages (the chunk stores of every holder). */
export function total (usages: Usage[]): Usage {
  return usages.reduce((a, u) => ({ bytes: a.bytes + u.bytes, disk: a.disk + u.disk, files: a.files + u.files }), { bytes: 0, disk: 0, files: 0 })
}
