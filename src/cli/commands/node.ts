
import { ApiClient } from '../../api/client.js'
import { resolveRepoDir } from '../../repo/paths.js'
import { parseSize, formatSize } from '../../util/size.js'
import { UsageError } from '../errors.js'
import { repoOption } from '../program.js'
import type { ConfigInput } from '../../repo/config.js'
import type { Command } from 'commander'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

interface StartFlags {
  repo?: string
  listen?: string[]
  bootstrap?: string[]
  mdns: boolean
  storageLimit?: string
  api?: string
}

export function registerNodeCommands (program: Command): void {
  program.command('start')
    .description('run the node in the foreground until SIGINT or SIGTERM')
    .addOption(repoOption())
    .option('--listen <multiaddr>', 'listen on this address (repeatable)', collect)
    .option('--bootstrap <multiaddr>', 'a peer to join through (repeatable)', collect)
    .option('--no-mdns', 'do not discover peers on the LAN by mDNS')
    .option('--storage-limit <size>', 'disk lent to other peers, e.g. 10GiB or 0')
    .option('--api <host:port>', 'the control API address (port 0 picks a free one)')
    .action(async (opts: StartFlags) => {
      const repo = resolveRepoDir(opts.repo)
      const flags: ConfigInput = {}
      if (opts.listen != null) flags.listen = opts.listen
      if (opts.mdns === false) flags.mdns = { enabled: false }
      if (opts.storageLimit != null) {
        if (parseSize(opts.storageLimit) === undefined) throw new UsageError(`invalid --storage-limit ${JSON.stringify(opts.storageLimit)}: expected a size such as 500MB, 10GiB or 0`)
        flags.storage = { limit: opts.storageLimit }
      }
      if (opts.api != null) {
        if (!/^[^:\s]+:\d{1,5}$/.test(opts.api)) throw new UsageError(`invalid --api ${JSON.stringify(opts.api)}: expected HOST:PORT such as 127.0.0.1:0`)
        const { apiHostProblem } = await import('../../repo/config.js')
        const why = apiHostProblem(opts.api)
        if (why != null) throw new UsageError(`invalid --api ${JSON.stringify(opts.api)}: ${why}`)
        flags.api = opts.api
      }
      // malformed addresses are usage errors (exit 2), found before a repo is made
      const { bootstrapProblem, multiaddrProblem } = await import('../../repo/config.js')
      for (const [flag, values, problem] of [['--listen', opts.listen, multiaddrProblem], ['--bootstrap', opts.bootstrap, bootstrapProblem]] as const) {
        for (const value of values ?? []) {
          const why = problem(value)
          if (why != null) throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: ${why}`)
        }
      }
      const { startDaemon } = await import('../../daemon/index.js')
      const daemon = await startDaemon({
        repo,
        flags,
        bootstrap: opts.bootstrap,
        // stdout only: a start that fails after this still says one line on stderr
        onRepoCreated: phrase => { process.stdout.write(`recovery phrase: ${phrase}\n`) }
      })
      process.stdout.write(`peer id: ${daemon.peerId}\n`)
      for (const addr of daemon.addrs) process.stdout.write(`${addr}\n`)
      process.stderr.write(`api: ${daemon.apiUrl}\n`)
      let signals = 0
      const onSignal = (): void => {
        if (++signals > 1) process.exit(1)
        daemon.stop().catch(() => {})
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      await daemon.stopped
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      // libp2p may leave timers behind; the node is down, so leave now
      setTimeout(() => process.exit(process.exitCode as number ?? 0), 200).unref()
    })

  program.command('status')
    .description('this node: peer id, addresses, peers, storage, snapshots, scheduled backups')
    .addOption(repoOption())
    .option('--json', 'print JSON')
    .action(async (opts: { repo?: string, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const status = await client.call('status')
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(status) + '\n')
        return
      }
      process.stdout.write(`peer id: ${status.peerId}\n`)
      for (const addr of status.addrs) process.stdout.write(`address: ${addr}\n`)
      process.stdout.write(`peers: ${status.peers}\n`)
      process.stdout.write(`storage: ${formatSize(status.storage.used)} used of ${formatSize(status.storage.limit)}\n`)
      for (const user of status.storage.users ?? []) process.stdout.write(`  ${formatSize(user.bytes)} for ${user.peer}\n`)
      process.stdout.write(`snapshots: ${status.snapshots}${status.degraded > 0 ? ` (${status.degraded} below their desired replicas)` : ''}\n`)
      for (const s of status.schedule ?? []) {
        process.stdout.write(`scheduled: ${s.paths.join(' ')} every ${s.every}: last ${s.last ?? 'never'}${s.result != null ? ` (${s.result}${s.error != null ? `: ${s.error}` : ''})` : ''}, next ${s.next}\n`)
      }
    })

  program.command('peers')
    .description('connected peers')
    .addOption(repoOption())
    .option('--json', 'print JSON')
    .action(async (opts: { repo?: string, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const peers = await client.call('peers')
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(peers) + '\n')
        return
      }
      for (const peer of peers) process.stdout.write(`${peer.peerId} ${peer.addrs.join(' ')}\n`)
    })

  program.command('stop')
    .description('stop the running node')
    .addOption(repoOption())
    .action(async (opts: { repo?: string }) => {
      const repo = resolveRepoDir(opts.repo)
      const client = await ApiClient.forRepo(repo)
      await client.call('stop')
      process.stderr.write(`stopping the node of repo ${repo}\n`)
    })
}

