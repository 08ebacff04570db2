import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { shebangFlags } from '../../src/cli/shebang.js'

/** The built CLI, as `npm ci` leaves it. */
export const CLI = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))
/** Node's arguments that run the CLI as `backpack` does: its shebang's flags, then the script. */
export const NODE_ARGS = [...shebangFlags(CLI), CLI]

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: Record<string, string>
  input?: string
  timeoutMs?: number
  cwd?: string
  /** Run the CLI through this command, e.g. `['netlab', 'exec', 'h1']` */
  wrap?: string[]
}

/** The program and arguments that run the CLI, optionally through a wrapper command. */
function cliCommand (args: string[], wrap: string[] = []): [string, string[]] {
  const full = [...wrap, process.execPath, ...NODE_ARGS, ...args]
  return [full[0], full.slice(1)]
}

/** Run the CLI to completion. */
export async function runCli (args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [command, argv] = cliCommand(args, options.wrap)
    const child = spawn(command, argv, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`backpack ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

export async function tempDir (prefix = 'backpack-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export interface NodeOptions {
  repo?: string
  bootstrap?: string[]
  args?: string[]
  env?: Record<string, string>
  /** Listen addresses instead of `/ip4/127.0.0.1/tcp/0` */
  listen?: string[]
  /** Written to `<repo>/config.json` before the node starts */
  config?: Record<string, unknown>
  /**
   * Leave mDNS on. Only inside a netlab host: mDNS must never run in the
   * machine's own network namespace, so the default passes `--no-mdns`.
   */
  mdns?: boolean
}

export interface TestNodeOptions {
  /** Run `start` and every command through this, e.g. `['netlab', 'exec', 'h1']` */
  wrap?: string[]
}

/** A `backpack start` process on 127.0.0.1 with mDNS off. */
export class TestNode {
  readonly repo: string
  proc?: ChildProcess
  peerId = ''
  addrs: string[] = []
  stdout = ''
  stderr = ''
  exited?: Promise<number | null>

  readonly wrap: string[]

  constructor (repo: string, options: TestNodeOptions = {}) {
    this.repo = repo
    this.wrap = options.wrap ?? []
  }

  /** Start (or restart) the node and wait until its API answers. */
  async start (options: NodeOptions = {}): Promise<this> {
    if (options.config != null) {
      await mkdir(this.repo, { recursive: true })
      await writeFile(join(this.repo, 'config.json'), JSON.stringify(options.config))
    }
    const args = ['start', '--repo', this.repo, '--api', '127.0.0.1:0']
    for (const addr of options.listen ?? ['/ip4/127.0.0.1/tcp/0']) args.push('--listen', addr)
    if (options.mdns !== true) args.push('--no-mdns')
    for (const addr of options.bootstrap ?? []) args.push('--bootstrap', addr)
    args.push(...(options.args ?? []))
    const [command, argv] = cliCommand(args, this.wrap)
    const proc = spawn(command, argv, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.proc = proc
    this.stdout = ''
    this.stderr = ''
    proc.stdout.setEncoding('utf8').on('data', d => { this.stdout += d })
    proc.stderr.setEncoding('utf8').on('data', d => { this.stderr += d })
    this.exited = new Promise(resolve => proc.on('exit', code => resolve(code)))
    const deadline = Date.now() + 30_000
    while (!/^api: /m.test(this.stderr)) {
      if (proc.exitCode != null || proc.signalCode != null) {
        throw new Error(`node exited with ${proc.exitCode ?? proc.signalCode}: ${this.stderr}`)
      }
      if (Date.now() > deadline) throw new Error(`node did not start: ${this.stdout} ${this.stderr}`)
      await sleep(50)
    }
    this.peerId = /^peer id: (\S+)$/m.exec(this.stdout)?.[1] ?? ''
    this.addrs = this.stdout.split('\n').filter(line => line.startsWith('/'))
    return this
  }

  /** Run a CLI command against this node's repo. */
  async run (args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runCli([...args, '--repo', this.repo], { wrap: this.wrap, ...options })
  }

  async json<T = any> (args: string[]): Promise<T> {
    const result = await this.run([...args, '--json'])
    if (result.code !== 0 && result.code !== 3) {
      throw new Error(`backpack ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
    }
    return JSON.parse(result.stdout)
  }

  get running (): boolean {
    return this.proc != null && this.proc.exitCode == null && this.proc.signalCode == null
  }

  /** SIGKILL: no chance to clean up. */
  async kill (): Promise<void> {
    if (!this.running) return
    this.proc?.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM and wait for the exit code. */
  async stop (): Promise<number | null> {
    if (!this.running) return this.proc?.exitCode ?? null
    this.proc?.kill('SIGTERM')
    return this.exited ?? null
  }

  async apiUrl (): Promise<string> {
    return (await readFile(join(this.repo, 'api'), 'utf8')).trim()
  }
}

/** A set of nodes joined through the first one, cleaned up by `close()`. */
export class TestNetwork {
  readonly nodes: TestNode[] = []
  readonly dirs: string[] = []

  async dir (): Promise<string> {
    const dir = await tempDir()
    this.dirs.push(dir)
    return dir
  }

  async addNode (options: NodeOptions = {}): Promise<TestNode> {
    const node = new TestNode(options.repo ?? join(await this.dir(), 'repo'))
    const bootstrap = options.bootstrap ?? (this.nodes.length > 0 ? [this.nodes[0].addrs[0]] : [])
    this.nodes.push(node)
    await node.start({ ...options, bootstrap })
    return node
  }

  /** Start n nodes; all but the first bootstrap from the first. */
  async addNodes (n: number, options: NodeOptions = {}): Promise<TestNode[]> {
    const out: TestNode[] = []
    if (this.nodes.length === 0 && n > 0) {
      out.push(await this.addNode(options))
      n--
    }
    out.push(...await Promise.all(Array.from({ length: n }, async () => this.addNode(options))))
    return out
  }

  /** Wait until every running node sees every other running node. */
  async waitConnected (timeoutMs = 30_000): Promise<void> {
    await waitAllConnected(this.nodes.filter(n => n.running), timeoutMs, 'nodes did not all connect')
  }

  async close (): Promise<void> {
    await Promise.all(this.nodes.map(async n => n.kill()))
    await Promise.all(this.dirs.map(async d => rm(d, { recursive: true, force: true })))
  }
}

/** Wait until each of these nodes lists all the others in `peers --json`. */
export async function waitAllConnected (nodes: TestNode[], timeoutMs: number, message: string): Promise<void> {
  let missing: string[] = []
  try {
    await waitFor(async () => {
      missing = []
      for (const [i, node] of nodes.entries()) {
        const peers: Array<{ peerId: string }> = await node.json(['peers'])
        const ids = new Set(peers.map(p => p.peerId))
        nodes.forEach((other, j) => { if (other !== node && !ids.has(other.peerId)) missing.push(`${i}→${j}`) })
      }
      return missing.length === 0
    }, timeoutMs, message)
  } catch (err: any) {
    // say which node does not see which, to tell discovery from dialing
    throw new Error(`${err.message} (not connected: ${missing.join(' ')})`)
  }
}

export async function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

export async function waitFor (check: () => Promise<boolean> | boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      last = err
    }
    await sleep(250)
  }
  throw new Error(`${message}${last != null ? `: ${String(last)}` : ''}`)
}
