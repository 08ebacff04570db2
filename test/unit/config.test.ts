// Config logic only: no node starts here, so nothing multicasts (nodes outside
// netlab hosts always run with --no-mdns).
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DEFAULT_CONFIG_PATH, configSchema, loadConfig, mergeConfig, readConfigFile, validateConfig
} from '../../src/repo/config.js'
import type { ConfigInput } from '../../src/repo/config.js'

/** A peer id, for bootstrap addresses */
const PEER = '12D3KooWBkZCULjmqnsrgW8hfPxSAYYAg5M8sXzfZEkBgaWi6yjE'

async function defaults (): Promise<ConfigInput> {
  return JSON.parse(await readFile(DEFAULT_CONFIG_PATH, 'utf8'))
}

/** The InvalidConfigError message for the defaults with `layer` on top. */
async function failure (layer: ConfigInput): Promise<string> {
  const merged = mergeConfig(await defaults(), layer)
  try {
    validateConfig(merged, 'config.json')
  } catch (err: any) {
    assert.equal(err.name, 'InvalidConfigError')
    assert.doesNotMatch(err.message, /\n/, 'one line')
    return err.message
  }
  assert.fail(`accepted ${JSON.stringify(layer)}`)
}

describe('mergeConfig', () => {
  it('merges objects key by key, deeply', () => {
    const merged = mergeConfig(
      { a: 1, mdns: { enabled: true, intervalMs: 10 }, deep: { x: { y: 1, z: 2 } } },
      { mdns: { enabled: false }, deep: { x: { z: 3 } } }
    )
    assert.deepEqual(merged, { a: 1, mdns: { enabled: false, intervalMs: 10 }, deep: { x: { y: 1, z: 3 } } })
  })

  it('replaces arrays and scalars instead of merging them', () => {
    const merged = mergeConfig({ listen: ['/a', '/b'], api: 'x:1' }, { listen: ['/c'], api: 'y:2' })
    assert.deepEqual(merged, { listen: ['/c'], api: 'y:2' })
  })

  it('applies layers in order: the last one wins', () => {
    const merged = mergeConfig({ storage: { limit: '1GB' } }, { storage: { limit: '2GB' } }, { storage: { limit: '3GB' } })
    assert.deepEqual(merged, { storage: { limit: '3GB' } })
  })

  it('skips undefined values but keeps null, which then fails validation', () => {
    assert.deepEqual(mergeConfig({ a: 1, b: 2 }, { a: undefined, b: null }), { a: 1, b: null })
  })

  it('leaves its inputs untouched', () => {
    const base = { mdns: { enabled: true, intervalMs: 10 } }
    const layer = { mdns: { enabled: false } }
    mergeConfig(base, layer)
    assert.deepEqual(base, { mdns: { enabled: true, intervalMs: 10 } })
    assert.deepEqual(layer, { mdns: { enabled: false } })
  })

  it('replaces an object with a scalar and a scalar with an object', () => {
    assert.deepEqual(mergeConfig({ a: { b: 1 } }, { a: 5 }), { a: 5 })
    assert.deepEqual(mergeConfig({ a: 5 }, { a: { b: 1 } }), { a: { b: 1 } })
  })
})

describe('validateConfig', () => {
  it('accepts config/default.json as it is, with every key the schema knows', async () => {
    const input = await defaults()
    const config = validateConfig(input)
    assert.deepEqual(Object.keys(input).sort(), Object.keys(configSchema.shape).sort())
    assert.equal(config.storage.limit, 10 * 1024 ** 3, 'sizes become byte counts')
    assert.equal(config.mdns.enabled, true)
    assert.equal(config.mdns.intervalMs, 10_000)
    assert.equal(config.dht.protocol, '/backpack/kad/1.0.0')
    assert.equal(config.api, '127.0.0.1:0')
  })

  it('accepts sizes as numbers and as text with units', async () => {
    for (const [limit, bytes] of [[0, 0], ['0', 0], ['500MB', 500_000_000], [1234, 1234], ['1.5KiB', 1536]] as const) {
      const config = validateConfig(mergeConfig(await defaults(), { storage: { limit } }))
      assert.equal(config.storage.limit, bytes, String(limit))
    }
  })

  it('names the key, the bad value and what is allowed', async () => {
    const cases: Array<[ConfigInput, RegExp[]]> = [
      [{ storage: { limit: 'lots' } }, [/storage\.limit/, /"lots"/, /expected a size/, /10GiB/]],
      [{ storage: { limit: true } }, [/storage\.limit/, /true/, /expected a size/]],
      [{ storage: { limit: -1 } }, [/storage\.limit/, /-1/, /expected a size/]],
      [{ mdns: { enabled: 'yes' } }, [/mdns\.enabled/, /"yes"/, /boolean/]],
      [{ mdns: { intervalMs: 0 } }, [/mdns\.intervalMs/, / 0/]],
      [{ listen: '/ip4/0.0.0.0/tcp/0' }, [/listen/, /array/]],
      [{ listen: ['nope'] }, [/listen\.0/, /"nope"/, /multiaddr/]],
      [{ listen: ['/ip4/127.0.0.1/tcp/99999'] }, [/listen\.0/, /99999/, /multiaddr/, /65535/]],
      [{ bootstrap: ['/ip4/10.0.0.1/tcp/4001'] }, [/bootstrap\.0/, /ending in \/p2p\/<peer id>/]],
      [{ bootstrap: ['/ip4/10.0.0.1/tcp/4001/p2p/notapeer'] }, [/bootstrap\.0/, /"notapeer" is not a peer id/]],
      [{ connections: { allow: ['/ip4/300.0.0.0/ipcidr/8'] } }, [/connections\.allow\.0/, /multiaddr/]],
      [{ bootstrap: [42] }, [/bootstrap\.0/, /42/]],
      [{ api: 'localhost' }, [/\bapi\b/, /"localhost"/, /HOST:PORT/]],
      [{ chunking: { size: 10 } }, [/chunking\.size/, /10/, /1024/]],
      [{ chunking: { size: 64 * 1024 * 1024 } }, [/chunking\.size/, /16777216/]],
      [{ replication: { priority: 'medium' } }, [/replication\.priority/, /"medium"/, /high/, /low/]],
      [{ transfer: { chunksInFlight: 1000 } }, [/transfer\.chunksInFlight/, /1000/, /256/]],
      [{ dht: { protocol: 'kad' } }, [/dht\.protocol/, /"kad"/, /"\/"/]],
      [{ mdns: null }, [/mdns/, /null/, /object/]]
    ]
    for (const [layer, patterns] of cases) {
      const message = await failure(layer)
      assert.match(message, /^invalid config\.json: /)
      for (const pattern of patterns) assert.match(message, pattern, `${JSON.stringify(layer)} -> ${message}`)
    }
  })

  it('refuses unknown keys at any depth, naming the full key', async () => {
    assert.equal(await failure({ colour: 'blue' }), 'invalid config.json: unknown key colour')
    assert.equal(await failure({ mdns: { interval: 5 } }), 'invalid config.json: unknown key mdns.interval')
    assert.equal(await failure({ replication: { speed: 3 } }), 'invalid config.json: unknown key replication.speed')
  })

  it('names a missing key as nothing', () => {
    assert.throws(() => validateConfig({}, 'x'), { name: 'InvalidConfigError', message: /^invalid x: \S+ is nothing: / })
  })
})

describe('readConfigFile and loadConfig', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'backpack-config-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('adds --bootstrap addresses to those of config.json, and validates them', async () => {
    const path = join(dir, 'bootstrap.json')
    await writeFile(path, JSON.stringify({ bootstrap: [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`] }))
    const config = await loadConfig(path, {}, [`/ip4/10.0.0.2/tcp/4001/p2p/${PEER}`])
    assert.deepEqual(config.bootstrap, [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`, `/ip4/10.0.0.2/tcp/4001/p2p/${PEER}`])
    await assert.rejects(loadConfig(path, {}, ['nonsense']), /bootstrap\.1/)
  })

  it('reads a missing file as an empty layer', async () => {
    assert.deepEqual(await readConfigFile(join(dir, 'missing.json')), {})
  })

  it('refuses a file that is not a JSON object, naming the file', async () => {
    for (const [name, text] of [['broken.json', '{ storage: '], ['array.json', '[1, 2]'], ['string.json', '"x"'], ['null.json', 'null']]) {
      const path = join(dir, name)
      await writeFile(path, text)
      await assert.rejects(readConfigFile(path), (err: Error) => {
        assert.equal(err.name, 'InvalidConfigError')
        assert.ok(err.message.includes(path), err.message)
        return true
      })
    }
  })

  it('refuses a path that cannot be read', async () => {
    await assert.rejects(readConfigFile(dir), { name: 'InvalidConfigError', message: new RegExp(`cannot read ${dir}`) })
  })

  it('layers defaults < config.json < flags', async () => {
    const path = join(dir, 'config.json')
    await writeFile(path, JSON.stringify({ storage: { limit: '1GB' }, mdns: { intervalMs: 1000 }, bootstrap: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`] }))
    const fromFile = await loadConfig(path)
    assert.equal(fromFile.storage.limit, 1_000_000_000)
    assert.equal(fromFile.mdns.intervalMs, 1000)
    assert.equal(fromFile.mdns.enabled, true, 'untouched keys keep their defaults')
    assert.deepEqual(fromFile.bootstrap, [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`])
    assert.equal(fromFile.replication.priority, 'high')

    const withFlags = await loadConfig(path, { storage: { limit: '0' }, mdns: { enabled: false }, listen: ['/ip4/127.0.0.1/tcp/0'] })
    assert.equal(withFlags.storage.limit, 0)
    assert.equal(withFlags.mdns.enabled, false)
    assert.equal(withFlags.mdns.intervalMs, 1000, 'a flag overrides only its own key')
    assert.deepEqual(withFlags.listen, ['/ip4/127.0.0.1/tcp/0'])
  })

  it('names the repo\'s config file when it is invalid', async () => {
    const path = join(dir, 'bad-config.json')
    await writeFile(path, JSON.stringify({ storage: { limit: 'lots' } }))
    await assert.rejects(loadConfig(path), { name: 'InvalidConfigError', message: `invalid ${path}: storage.limit is "lots": expected a size: a byte count or a number with a unit (500MB, 10GiB, 0)` })
  })

  it('a missing config.json gives the defaults', async () => {
    const config = await loadConfig(join(dir, 'nothing-here.json'))
    assert.deepEqual(config, validateConfig(await defaults()))
  })
})
