// restic, the reference of the tree benchmark: a local repository in the
// bench's temp dir, its cache there too (a user has one), every core.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { du } from './fstree.js'
import { runMeasured } from './proc.js'
import type { Usage } from './fstree.js'
import type { RunResult } from './proc.js'

const COMMAND_TIMEOUT_MS = 60 * 60_000

export interface ResticTool {
  bin: string
  /** first line of `restic version` */
  version: string
}

function onPath (name: string): string | undefined {
  return (process.env.PATH ?? '').split(delimiter).map(d => join(d, name)).find(p => existsSync(p))
}

/**
 * restic from PATH; when missing and `install` is set and we are root,
 * `apt-get install -y restic` first. `reason` says why there is none.
 */
export function findRestic (install: boolean, log: (m: string) => void): { tool?: ResticTool, reason?: string } {
  let bin = onPath('restic')
  if (bin == null) {
    if (!install) return { reason: 'restic is not on PATH (quick mode does not install it)' }
    if (process.getuid?.() !== 0) return { reason: 'restic is not on PATH and the bench is not root, so cannot apt-get install it' }
    log('installing restic: apt-get update && apt-get install -y restic')
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    for (const args of [['update'], ['install', '-y', 'restic']]) {
      const r = spawnSync('apt-get', args, { env, encoding: 'utf8' })
      if (r.status !== 0) return { reason: `apt-get ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${lastLine(r.stderr ?? '')}` }
    }
    bin = onPath('restic')
    if (bin == null) return { reason: 'apt-get installed restic but it is not on PATH' }
  }
  const v = spawnSync(bin, ['version'], { encoding: 'utf8' })
  if (v.status !== 0) return { reason: `${bin} version failed: ${lastLine(v.stderr)}` }
  return { tool: { bin, version: v.stdout.trim().split('\n')[0] } }
}

/** The summary restic prints at the end of `backup --json` */
export interface BackupSummary {
  files_new: number
  files_changed: number
  files_unmodified: number
  data_added: number
  total_files_processed: number
  total_bytes_processed: number
  snapshot_id: string
}

export interface ResticRun {
  ms: number
  /** peak RSS of restic, bytes (0 when unknown) */
  rss: number
  summary?: BackupSummary
}

export class ResticRepo {
  readonly repo: string
  private readonly env: NodeJS.ProcessEnv
  /** format version 2 compresses (zstd); 1 does not */
  compressed = false

  constructor (readonly tool: ResticTool, dir: string) {
    this.repo = join(dir, 'repo')
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RESTIC_REPOSITORY: this.repo,
      RESTIC_PASSWORD_FILE: join(dir, 'password'),
      RESTIC_CACHE_DIR: join(dir, 'cache')
    }
    delete env.GOMAXPROCS // all cores, as a user gets them
    delete env.RESTIC_PASSWORD
    this.env = env
  }

  async init (): Promise<void> {
    await mkdir(this.env.RESTIC_CACHE_DIR ?? '', { recursive: true })
    await writeFile(this.env.RESTIC_PASSWORD_FILE ?? '', 'backpack-bench\n', { mode: 0o600 })
    const help = spawnSync(this.tool.bin, ['init', '--help'], { encoding: 'utf8' }).stdout ?? ''
    this.compressed = help.includes('--repository-version')
    await this.run(['init', ...(this.compressed ? ['--repository-version', '2'] : [])])
  }

  /** `backup PATH`: restic finds the parent snapshot by path itself. */
  async backup (path: string): Promise<ResticRun> {
    const r = await this.run(['backup', path, '--json', '--quiet'])
    const summary = r.stdout.trim().split('\n').map(parseJson).find(j => j?.message_type === 'summary') as BackupSummary | undefined
    if (summary == null) throw new Error(`restic backup printed no summary: ${lastLine(r.stdout)}`)
    return { ms: r.ms, rss: r.peakRss, summary }
  }

  /** `restore latest --target OUT`: the tree lands at OUT/<its absolute path>. */
  async restore (out: string): Promise<ResticRun> {
    const r = await this.run(['restore', 'latest', '--target', out, '--quiet'])
    return { ms: r.ms, rss: r.peakRss }
  }

  /** Raw-data statistics: total_size is the blobs as stored (compressed; 0.14 gives no uncompressed size). */
  async stats (): Promise<{ total_size: number }> {
    const r = await this.run(['stats', '--mode', 'raw-data', '--json', '--quiet'])
    return JSON.parse(r.stdout)
  }

  async size (): Promise<Usage> {
    return du(this.repo)
  }

  private async run (args: string[]): Promise<RunResult> {
    const r = await runMeasured(args, { command: this.tool.bin, env: this.env, timeoutMs: COMMAND_TIMEOUT_MS })
    if (r.code !== 0) throw new Error(`restic ${args[0]} exited ${r.code}: ${lastLine(r.stderr)}`)
    return r
  }
}

function parseJson (line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

function lastLine (text: string): string {
  return text.trim().split('\n').pop() ?? ''
}
