// Child processes of the benchmark: spawned node scripts whose stdout is
// read line by line, peak RSS from /usr/bin/time when present, and a
// registry that kills whatever is still running when the bench ends.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasTimeBin, PeakRssWatcher, TIME_BIN } from './rss.js'
import type { ChildProcess } from 'node:child_process'

const live = new Set<ChildProcess>()

/** SIGKILL a child, and its process group when it leads one (time + node). */
function kill (child: ChildProcess): void {
  if (child.exitCode != null || child.signalCode != null) return
  try {
    if (child.pid != null && groups.has(child)) process.kill(-child.pid, 'SIGKILL')
    else child.kill('SIGKILL')
  } catch {}
}
const groups = new WeakSet<ChildProcess>()

/** SIGKILL every child still running (used on the way out, even on error). */
export function killAll (): void {
  for (const child of live) kill(child)
  live.clear()
}

/** A long-lived node process whose stdout lines can be awaited. */
export class Peer {
  readonly proc: ChildProcess
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>

  constructor (args: string[], options: { cwd?: string } = {}) {
    this.proc = spawn(process.execPath, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    live.add(this.proc)
    this.proc.stdout?.setEncoding('utf8').on('data', (d: string) => { this.stdout += d })
    this.proc.stderr?.setEncoding('utf8').on('data', (d: string) => { this.stderr += d })
    this.exited = new Promise(resolve => this.proc.on('exit', code => { live.delete(this.proc); resolve(code) }))
  }

  get pid (): number {
    return this.proc.pid ?? -1
  }

  /** Wait for output (stdout, or stderr) matching `re`; returns the match. */
  async line (re: RegExp, timeoutMs = 60_000, from: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = this[from].match(re)
      if (match != null) return match
      if (this.proc.exitCode != null || this.proc.signalCode != null) {
        throw new Error(`process exited (${this.proc.exitCode ?? this.proc.signalCode}) before printing ${re}: ${this.stderr.slice(-2000)}`)
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: ${this.stderr.slice(-2000)}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  /** Close stdin (the polite way to stop the bench's own peers), then SIGTERM, then SIGKILL. */
  async stop (timeoutMs = 10_000): Promise<void> {
    if (this.proc.exitCode != null || this.proc.signalCode != null) return
    this.proc.stdin?.end()
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs)
    await this.exited
    clearTimeout(timer)
  }
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  ms: number
  /** Peak RSS in bytes, 0 when unknown */
  peakRss: number
  /** CPU time in ms (user + system), undefined when unknown (no /usr/bin/time) */
  cpuMs?: number
}

/**
 * Run `node ARGS` (or `command ARGS`) to completion, timing it and taking its
 * peak RSS and CPU time (`/usr/bin/time -f '%M %U %S'` when present, else
 * polling VmHWM and no CPU time).
 */
export async function runMeasured (args: string[], options: { cwd?: string, timeoutMs?: number, command?: string, env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const useTime = hasTimeBin()
  const dir = useTime ? await mkdtemp(join(tmpdir(), 'backpack-bench-time-')) : undefined
  const rssFile = dir != null ? join(dir, 'rss') : ''
  const command = options.command ?? process.execPath
  const argv = useTime ? [TIME_BIN, '-f', '%M %U %S', '-o', rssFile, command, ...args] : [command, ...args]
  try {
    const started = performance.now()
    // its own process group, so that a timeout kills node under /usr/bin/time too
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    live.add(child)
    groups.add(child)
    const watcher = useTime ? undefined : new PeakRssWatcher(child.pid ?? -1)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => kill(child), options.timeoutMs ?? 30 * 60_000)
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', code => resolve(code))
    })
    const ms = performance.now() - started
    clearTimeout(timer)
    live.delete(child)
    let peak = watcher?.stop() ?? 0
    let cpuMs: number | undefined
    if (useTime) {
      // the last line (a first one may say the exit status): KiB, then user and system seconds
      const [kib, user, system] = ((await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '').split(' ').map(Number)
      peak = Number.isFinite(kib) ? kib * 1024 : 0
      if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user + system) * 1000
    }
    return { code, stdout, stderr, ms, peakRss: peak, cpuMs }
  } finally {
    if (dir != null) await rm(dir, { recursive: true, force: true })
  }
}
