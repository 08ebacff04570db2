// Generated trees for the tree benchmark: deterministic (a seeded PRNG, not
// Math.random), shaped like a home directory: many small compressible text
// files in nested directories, empty directories, duplicates, symbolic links
// (a couple dangling) and a few large files, mostly incompressible media.
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { MiB } from './stats.js'

const KiB = 1024
/** Writes in flight: enough to keep the disk busy, few enough to keep memory flat */
const WRITES_IN_FLIGHT = 64

/** splitmix32: small, fast and good enough to shape a tree and fill files. */
export class Prng {
  private state: number
  constructor (seed: number) { this.state = seed >>> 0 }
  next (): number {
    this.state = (this.state + 0x9e3779b9) >>> 0
    let z = this.state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }

  /** uniform in [0, 1) */
  float (): number { return this.next() / 2 ** 32 }
  /** integer in [lo, hi] */
  int (lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)) }
  /** log-uniform integer in [lo, hi]: as many files of 1-2 KiB as of 32-64 KiB */
  logUniform (lo: number, hi: number): number { return Math.floor(lo * (hi / lo) ** this.float()) }
  pick<T> (xs: readonly T[]): T { return xs[Math.floor(this.float() * xs.length)] }
}

// A fixed vocabulary of made-up identifiers: text like source code, which
// zstd compresses a few times, not a hundred times as it would repeated text.
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'xe', 'zu', 'bar', 'con', 'del', 'fin', 'get', 'han', 'jor', 'pel', 'quo', 'set', 'tor', 'wix']
const VOCABULARY = (() => {
  const rng = new Prng(0xb4c9)
  return Array.from({ length: 2048 }, () => Array.from({ length: rng.int(1, 4) }, () => rng.pick(SYLLABLES)).join(''))
})()
const PUNCTUATION = [' ', ' ', ' ', ' ', '.', ', ', '(', ') ', ' = ', '; ', ' {', '}', ': ', '_', '->']

const WORDS = VOCABULARY.map(w => Buffer.from(w, 'latin1'))
const MARKS = PUNCTUATION.map(p => Buffer.from(p, 'latin1'))

/** `size` bytes of text: indented lines of words, punctuation and numbers (bytes copied by hand: Buffer.write per word ran at 9 MB/s). */
export function text (seed: number, size: number): Buffer {
  const rng = new Prng(seed)
  const out = Buffer.allocUnsafe(size + 256)
  let n = 0
  const put = (b: Buffer): void => { for (let i = 0; i < b.length; i++) out[n++] = b[i] }
  while (n < size) {
    for (let i = 2 * rng.int(0, 3); i > 0; i--) out[n++] = 0x20
    const words = rng.int(3, 12)
    for (let w = 0; w < words; w++) {
      if (rng.float() < 0.15) n = digits(out, n, rng.next() % 100_000)
      else put(rng.pick(WORDS))
      put(rng.pick(MARKS))
    }
    out[n++] = 0x0a
  }
  return out.subarray(0, size)
}

/** Write `v` in decimal at `at`; returns the offset after it. */
function digits (out: Buffer, at: number, v: number): number {
  const end = at + (v < 10 ? 1 : Math.floor(Math.log10(v)) + 1)
  for (let i = end - 1; i >= at; i--, v = Math.floor(v / 10)) out[i] = 0x30 + v % 10
  return end
}

/** `size` bytes from the PRNG: incompressible, like photos or video. */
export function noise (seed: number, size: number): Buffer {
  const rng = new Prng(seed)
  const words = new Uint32Array(Math.ceil(size / 4))
  for (let i = 0; i < words.length; i++) words[i] = rng.next()
  return Buffer.from(words.buffer, 0, size)
}

export interface TreeSpec {
  seed: number
  /** regular files besides the large ones */
  files: number
  /** the large files: `text` is compressible (a log), `noise` is not (media) */
  large: Array<{ size: number, kind: 'text' | 'noise' }>
}

export const FULL_TREE: TreeSpec = { seed: 1, files: 10_000, large: [{ size: 10 * MiB, kind: 'text' }, { size: 20 * MiB, kind: 'noise' }, { size: 50 * MiB, kind: 'noise' }] }
export const QUICK_TREE: TreeSpec = { seed: 1, files: 500, large: [{ size: 1 * MiB, kind: 'text' }, { size: 2 * MiB, kind: 'noise' }] }

export interface TreeStats {
  files: number
  dirs: number
  symlinks: number
  /** of which dangling */
  dangling: number
  duplicates: number
  /** bytes in regular files */
  bytes: number
  ms: number
}

interface FileEntry { path: string, seed: number, size: number, kind: 'text' | 'noise' }

const EXTENSIONS = ['.ts', '.js', '.md', '.txt', '.json', '.c', '.h', '.py', '.css', '.html']

/**
 * Write the tree of `spec` under `root` (created). Directories hang off a
 * random earlier one up to 4 levels deep and hold 10-50 entries; 1 in 30 is
 * left empty; 5 % of files copy an earlier one; 1 % are relative symbolic
 * links to a file, plus two dangling links.
 */
export async function writeTree (root: string, spec: TreeSpec): Promise<TreeStats> {
  const started = performance.now()
  const rng = new Prng(spec.seed)
  const dirs: Array<{ path: string, depth: number }> = [{ path: root, depth: 0 }]
  const empty: string[] = []
  const files: FileEntry[] = []
  const links: Array<{ path: string, target: string }> = []
  let duplicates = 0
  while (files.length < spec.files) {
    const parent = rng.pick(dirs.filter(d => d.depth < 4))
    const path = join(parent.path, `d${dirs.length + empty.length}-${rng.pick(VOCABULARY)}`)
    if (rng.int(1, 30) === 1) {
      empty.push(path)
      continue
    }
    dirs.push({ path, depth: parent.depth + 1 })
    const count = Math.min(rng.int(8, 45), spec.files - files.length)
    for (let i = 0; i < count; i++) {
      const name = join(path, `${rng.pick(VOCABULARY)}-${files.length}${rng.pick(EXTENSIONS)}`)
      if (files.length > 0 && rng.float() < 0.05) {
        duplicates++
        files.push({ ...rng.pick(files), path: name })
      } else if (files.length > 0 && rng.float() < 0.01) {
        links.push({ path: name, target: rng.pick(files).path })
      } else {
        files.push({ path: name, seed: rng.next(), size: rng.logUniform(KiB, 64 * KiB), kind: 'text' })
      }
    }
  }
  spec.large.forEach((l, i) => files.push({ path: join(root, l.kind === 'text' ? 'logs' : 'media', `large-${i}.${l.kind === 'text' ? 'log' : 'bin'}`), seed: rng.next(), size: l.size, kind: l.kind }))
  links.push({ path: join(root, 'dangling-1'), target: join(root, 'no-such-file') })
  links.push({ path: join(dirs[1]?.path ?? root, 'dangling-2'), target: join(root, 'gone', 'away.txt') })

  const allDirs = [...new Set([...dirs.map(d => d.path), ...empty, ...files.map(f => dirname(f.path))])]
  await Promise.all(allDirs.map(async d => mkdir(d, { recursive: true })))
  await inFlight(files, async f => writeFile(f.path, f.kind === 'text' ? text(f.seed, f.size) : noise(f.seed, f.size)))
  await inFlight(links, async l => symlink(relative(dirname(l.path), l.target), l.path))
  return {
    files: files.length,
    dirs: allDirs.length,
    symlinks: links.length,
    dangling: 2,
    duplicates,
    bytes: files.reduce((a, f) => a + f.size, 0),
    ms: performance.now() - started
  }
}

/**
 * `count` text files of 0.1-4 KiB in about count / 100 directories (ten
 * top-level ones): the case where per-file costs dominate.
 */
export async function smallFilesTree (root: string, count: number, seed = 2): Promise<TreeStats> {
  const started = performance.now()
  const rng = new Prng(seed)
  const perDir = 100
  const dirs = Math.ceil(count / perDir)
  const files: FileEntry[] = []
  for (let i = 0; i < count; i++) {
    const d = Math.floor(i / perDir)
    files.push({ path: join(root, `top-${d % 10}`, `dir-${d}`, `f-${i}.txt`), seed: rng.next(), size: rng.logUniform(100, 4 * KiB), kind: 'text' })
  }
  const allDirs = [...new Set(files.map(f => dirname(f.path)))]
  await Promise.all(allDirs.map(async d => mkdir(d, { recursive: true })))
  await inFlight(files, async f => writeFile(f.path, text(f.seed, f.size)))
  return { files: count, dirs: dirs + 10 + 1, symlinks: 0, dangling: 0, duplicates: 0, bytes: files.reduce((a, f) => a + f.size, 0), ms: performance.now() - started }
}

/** Rewrite one small file of the tree (the same one every run) with new text and a new mtime; returns its path. */
export async function changeOneFile (root: string, seed = 3): Promise<string> {
  const path = await firstSmallFile(root)
  const old = await readFile(path)
  await writeFile(path, text(seed ^ old.byteLength, old.byteLength))
  const later = new Date(Date.now() + 2000)
  await utimes(path, later, later)
  return path
}

async function firstSmallFile (dir: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name < b.name ? -1 : 1)
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isFile() && (await stat(path)).size <= 64 * KiB) return path
  }
  for (const entry of entries) {
    if (entry.isDirectory()) {
      const found = await firstSmallFile(join(dir, entry.name)).catch(() => undefined)
      if (found != null) return found
    }
  }
  throw new Error(`no small file under ${dir}`)
}

/** Insert `bytes` random bytes in the middle of the file at `path`. */
export async function insertInMiddle (path: string, bytes: number, seed = 4): Promise<void> {
  const data = await readFile(path)
  const mid = Math.floor(data.byteLength / 2)
  await writeFile(path, Buffer.concat([data.subarray(0, mid), noise(seed, bytes), data.subarray(mid)]))
}

/** Run `fn` over `items`, at most WRITES_IN_FLIGHT at once. */
async function inFlight<T> (items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, items.length) }, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}
