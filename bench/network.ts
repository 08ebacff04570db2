// A local network of `backpack start` processes on 127.0.0.1 (mDNS off),
// joined through the first node, for the put/get part of the benchmark.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Peer, runMeasured } from './proc.js'
import { cpuMs } from './cpu.js'
import { peakRss, resetPeakRss } from './rss.js'
import { shebangFlags } from '../src/cli/shebang.js'
import type { RunResult } from './proc.js'

/** The built CLI */
export const CLI = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url))
/** Node's arguments that run the CLI as `backpack` does: its shebang's flags, then the script */
export const NODE_ARGS = [...shebangFlags(CLI), CLI]

const CONNECT_TIMEOUT_MS = 60_000

export interface Daemon {
  repo: string
  peer: Peer
  peerId: string
  addr: string
}

export class Network {
  readonly daemons: Daemon[] = []

  constructor (private readonly dir: string, private readonly storageLimit: string) {}

  /**
   * Start n daemons, the first alone, the rest bootstrapping from it; wait
   * until all see all. `config(i)` is written to daemon i's config.json first.
   */
  async start (n: number, config?: (i: number) => Record<string, unknown> | undefined): Promise<void> {
    await this.add([], config?.(0))
    await Promise.all(Array.from({ length: n - 1 }, async (_, i) => this.add([this.daemons[0].addr], config?.(i + 1))))
    const deadline = Date.now() + CONNECT_TIMEOUT_MS
    for (const daemon of this.daemons) {
      for (;;) {
        const peers = await this.cli(daemon, ['peers', '--json']).catch(() => undefined)
        if (peers?.code === 0 && (JSON.parse(peers.stdout) as unknown[]).length >= n - 1) break
        if (Date.now() > deadline) throw new Error(`backpack nodes did not all connect within ${CONNECT_TIMEOUT_MS} ms`)
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
  }

  private async add (bootstrap: string[] = [], config?: Record<string, unknown>): Promise<Daemon> {
    const repo = join(this.dir, `node-${this.daemons.length}`)
    const daemon: Daemon = { repo, peer: undefined as unknown as Peer, peerId: '', addr: '' }
    this.daemons.push(daemon)
    await mkdir(repo, { recursive: true })
    if (config != null) await writeFile(join(repo, 'config.json'), JSON.stringify(config))
    const args = [...NODE_ARGS, 'start', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns',
      '--api', '127.0.0.1:0', '--storage-limit', this.storageLimit]
    for (const addr of bootstrap) args.push('--bootstrap', addr)
    const peer = new Peer(args)
    daemon.peer = peer
    await peer.line(/^api: /m, 60_000, 'stderr')
    daemon.peerId = (await peer.line(/^peer id: (\S+)$/m))[1]
    daemon.addr = (await peer.line(/^(\/ip4\/127\.0\.0\.1\/\S+)$/m))[1]
    return daemon
  }

  /** Run a CLI command against a daemon's repo, timed, with the CLI's peak RSS. */
  async cli (daemon: Daemon, args: string[], timeoutMs?: number): Promise<RunResult> {
    return runMeasured([...NODE_ARGS, ...args, '--repo', daemon.repo], { timeoutMs })
  }

  /** Reset every daemon's peak RSS (start of a phase). */
  async resetPeaks (): Promise<void> {
    await Promise.all(this.daemons.map(async d => resetPeakRss(d.peer.pid)))
  }

  /** Every daemon's peak RSS in bytes since the last reset. */
  async peaks (): Promise<number[]> {
    return Promise.all(this.daemons.map(async d => await peakRss(d.peer.pid) ?? 0))
  }

  /** Every daemon's CPU ms so far (undefined for one that is gone). */
  async cpu (): Promise<Array<number | undefined>> {
    return Promise.all(this.daemons.map(async d => cpuMs(d.peer.pid)))
  }

  async stop (): Promise<void> {
    await Promise.all(this.daemons.map(async d => d.peer?.stop()))
  }
}
