import { statfs, unlink } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { LevelDatastore } from 'datastore-level'
import { ApiServer } from '../api/server.js'
import { createRoutes } from '../api/routes.js'
import { loadConfig } from '../repo/config.js'
import { initRepo, loadKeys, loadSwarmKey, lockRepo, repoExists, repoPaths, writeFileAtomic } from '../repo/index.js'
import { createNode } from '../node/index.js'
import { Backpack } from './backpack.js'
import { tuneGarbageCollector } from './gc.js'
import { NoSpaceError, describeError } from '../errors.js'
import type { Config, ConfigInput } from '../repo/config.js'

const log = logger('backpack:daemon')

export interface StartOptions {
  repo: string
  /** Config layer from the command line */
  flags: ConfigInput
  /** `--bootstrap` addresses, added to those from config */
  bootstrap?: string[]
  /**
   * Called with the recovery phrase as soon as this start has created the
   * repo, before anything else can fail: a start that then fails (a busy
   * port, a full disk) must not leave an identity whose phrase nobody saw.
   */
  onRepoCreated?: (phrase: string) => void
}

export interface RunningDaemon {
  peerId: string
  addrs: string[]
  apiUrl: string
  config: Config
  /** Resolves when the node has stopped */
  stopped: Promise<void>
  stop: () => Promise<void>
}

/**
 * `backpack start`: create the repo when missing, take its lock, start the
 * node and the control API, write `<repo>/api`. Stops on `stop()`.
 */
export async function startDaemon (options: StartOptions): Promise<RunningDaemon> {
  tuneGarbageCollector()
  const paths = repoPaths(options.repo)
  // validate first: a start that fails on bad config must not create a repo
  // whose recovery phrase nobody saw
  const config = await loadConfig(paths.config, options.flags, options.bootstrap)
  if (!(await repoExists(options.repo))) {
    options.onRepoCreated?.(await initRepo(options.repo))
  }
  const unlock = await lockRepo(options.repo)
  const cleanups: Array<() => Promise<void>> = [unlock]
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch(err => log.error('cleanup failed %e', err))
    cleanups.length = 0
  }
  try {
    const keys = await loadKeys(options.repo)
    const swarmKey = await loadSwarmKey(options.repo)
    const datastore = new LevelDatastore(paths.datastore)
    await openDatastore(datastore, paths.datastore)
    cleanups.push(async () => { await datastore.close() })

    const libp2p = await createNode({ privateKey: keys.privateKey, datastore }, {
      listen: config.listen,
      bootstrap: config.bootstrap,
      mdns: config.mdns.enabled,
      mdnsIntervalMs: config.mdns.intervalMs,
      swarmKey,
      allow: config.connections.allow,
      maxConnections: config.connections.maxConnections,
      dhtProtocol: config.dht.protocol
    })
    cleanups.push(async () => { await libp2p.stop() })

    const backpack = new Backpack({ libp2p, datastore, keys }, { config, repo: options.repo })
    await backpack.start()
    cleanups.push(async () => { await backpack.stop() })

    let resolveStopped!: () => void
    const stopped = new Promise<void>(resolve => { resolveStopped = resolve })
    let stopping: Promise<void> | undefined
    const stop = async (): Promise<void> => {
      stopping ??= (async () => {
        log('stopping')
        await cleanup()
        resolveStopped()
      })()
      return stopping
    }

    const [host, port] = splitHostPort(config.api)
    const api = new ApiServer({
      host,
      port,
      routes: createRoutes(backpack, { stop: () => { setImmediate(() => { stop().catch(() => {}) }) } })
    })
    const apiUrl = await api.start()
    cleanups.push(async () => { await api.stop() })
    await writeFileAtomic(paths.token, api.token + '\n', 0o600)
    await writeFileAtomic(paths.api, apiUrl + '\n', 0o644)
    // removed first on stop: a client must not find a URL whose node is going away
    cleanups.push(async () => {
      await unlink(paths.api).catch(() => {})
      await unlink(paths.token).catch(() => {})
    })

    const peerId = libp2p.peerId.toString()
    return {
      peerId,
      addrs: libp2p.getMultiaddrs().map(ma => ma.toString()),
      apiUrl,
      config,
      stopped,
      stop
    }
  } catch (err) {
    await cleanup()
    throw err
  }
}

function splitHostPort (text: string): [string, number] {
  const i = text.lastIndexOf(':')
  return [text.slice(0, i).replace(/^\[|\]$/g, ''), Number(text.slice(i + 1))]
}

/**
 * Open the datastore. The datastore's error does not say why it could not
 * open; a full disk, the likely reason once the repo is locked, is named.
 */
async function openDatastore (datastore: LevelDatastore, path: string): Promise<void> {
  try {
    await datastore.open()
  } catch (err) {
    const disk = await statfs(path).catch(() => undefined)
    if (disk != null && disk.bavail === 0) throw new NoSpaceError(`no space left on the disk of ${path}: the datastore cannot open`)
    throw new Error(`cannot open the datastore at ${path}: ${describeError(err).message}`)
  }
}
