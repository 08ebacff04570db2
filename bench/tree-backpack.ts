// The backpack side of the tree benchmark, written against contract v2
// (/work/shared/CONTRACT.md): `put PATH… --replicas N --json` prints one
// snapshot's summary, `get SNAP -o OUT --json` restores it. A command that
// fails or prints something else throws, and the case is reported failed.
import { join } from 'node:path'
import { du, total } from './fstree.js'
import type { Usage } from './fstree.js'
import type { Network } from './network.js'

/** exit code of a put that backed up but is below the desired replicas */
const EXIT_DEGRADED = 3
const COMMAND_TIMEOUT_MS = 60 * 60_000

/** What contract v2's `put --json` prints (the keys this bench reads). */
export interface PutV2 {
  id: string
  created: string
  sources: string[]
  files: number
  dirs: number
  new: number
  changed: number
  unchanged: number
  size: number
  added: number
  replicas: { desired: number, actual: number }
}

export interface BackpackRun {
  ms: number
  /** peak RSS in bytes of the CLI, the owner (daemon 0) and the largest other daemon */
  rss: { cli: number, owner: number, 'peers max': number }
  /** the summary, for a put */
  put?: PutV2
  /** the stderr line of a degraded put (exit 3) */
  degraded?: string
}

/** Why `stdout` is not contract v2's put output, or undefined when it is. */
export function notPutV2 (stdout: string): string | undefined {
  let json: unknown
  try {
    json = JSON.parse(stdout)
  } catch {
    return `put --json printed no JSON: ${clip(stdout)}`
  }
  const j = json as Record<string, unknown>
  if (typeof j !== 'object' || j == null || Array.isArray(j)) return `put --json printed ${Array.isArray(j) ? 'a list' : typeof j}, not a snapshot object (contract v1?): ${clip(stdout)}`
  if (typeof j.id !== 'string' || !j.id.startsWith('b')) return `put --json has no snapshot id (a CID starting with b): ${clip(stdout)}`
  for (const key of ['files', 'dirs', 'new', 'changed', 'unchanged', 'size', 'added'] as const) {
    if (typeof j[key] !== 'number') return `put --json has no number "${key}": ${clip(stdout)}`
  }
  const r = j.replicas as Record<string, unknown> | undefined
  if (typeof r?.desired !== 'number' || typeof r?.actual !== 'number') return `put --json has no replicas {desired, actual}: ${clip(stdout)}`
  return undefined
}

export class BackpackTree {
  constructor (private readonly network: Network, readonly replicas: number) {}

  /** `put PATH --replicas N --json` from the owner; throws unless it is done (0) or degraded (3) with v2 output. */
  async put (path: string): Promise<BackpackRun> {
    const { result, rss } = await this.measured(['put', path, '--replicas', String(this.replicas), '--json'])
    if (result.code !== 0 && result.code !== EXIT_DEGRADED) throw new Error(`put exited ${result.code}: ${firstLine(result.stderr)}`)
    const why = notPutV2(result.stdout)
    if (why != null) throw new Error(why)
    const put = JSON.parse(result.stdout) as PutV2
    return { ms: result.ms, rss, put, degraded: result.code === EXIT_DEGRADED ? firstLine(result.stderr) : undefined }
  }

  /** `get SNAP -o OUT --json`: a whole snapshot restores its top-level entries into OUT. */
  async get (snapshot: string, out: string): Promise<BackpackRun> {
    const { result, rss } = await this.measured(['get', snapshot, '-o', out, '--json'])
    if (result.code !== 0) throw new Error(`get exited ${result.code}: ${firstLine(result.stderr)}`)
    return { ms: result.ms, rss }
  }

  /** The chunk stores of every daemon (the owner keeps none of its own chunks, but may hold others'). */
  async stores (): Promise<Usage> {
    return total(await Promise.all(this.network.daemons.map(async d => du(join(d.repo, 'chunks')))))
  }

  private async measured (args: string[]): Promise<{ result: Awaited<ReturnType<Network['cli']>>, rss: BackpackRun['rss'] }> {
    await this.network.resetPeaks()
    const result = await this.network.cli(this.network.daemons[0], args, COMMAND_TIMEOUT_MS)
    const peaks = await this.network.peaks()
    return { result, rss: { cli: result.peakRss, owner: peaks[0] ?? 0, 'peers max': Math.max(0, ...peaks.slice(1)) } }
  }
}

function firstLine (text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

function clip (text: string): string {
  const t = text.trim().replace(/\s+/g, ' ')
  return t.length > 120 ? `${t.slice(0, 120)}…` : t
}
