// End-to-end tests of issue 2: real `backpack` processes on 127.0.0.1, every
// node started with --no-mdns (mDNS is tested only in netlab: test/lab/).
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { TestNetwork, TestNode, runCli, waitFor, sleep } from '../helpers/cli.js'
import type { RunResult } from '../helpers/cli.js'
import type { AddressInfo } from 'node:net'

/** How long a start that must fail may take before the test gives up on it. */
const FAILING_START_TIMEOUT_MS = 20_000

const PHRASE_LINE = /^recovery phrase: ([a-z]+(?: [a-z]+){23})$/m

function noNodeLine (repo: string): string {
  return `no node is running for repo ${repo}: start one with 'backpack start'`
}

/** stderr holds exactly one non-empty line; returns it. */
function oneLine (result: RunResult): string {
  const lines = result.stderr.split('\n').filter(line => line.trim() !== '')
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${result.stderr}`)
  assert.doesNotMatch(lines[0], /^\s+at /, 'no stack trace')
  return lines[0]
}

function sortedKeys (value: object): string[] {
  return Object.keys(value).sort()
}

function assertFullAddrs (addrs: unknown, peerId: string): void {
  assert.ok(Array.isArray(addrs) && addrs.length > 0, `addrs: ${JSON.stringify(addrs)}`)
  for (const addr of addrs) {
    assert.equal(typeof addr, 'string')
    assert.match(addr, /^\/ip4\//)
    assert.ok(addr.endsWith(`/p2p/${peerId}`), `${addr} ends with /p2p/${peerId}`)
  }
}

describe('three nodes joined through a bootstrap address', () => {
  const net = new TestNetwork()
  let nodes: TestNode[] = []

  before(async () => {
    nodes = await net.addNodes(3)
  })
  after(async () => { await net.close() })

  it('print their peer id and full listen multiaddrs on start', () => {
    for (const node of nodes) {
      assert.match(node.peerId, /^12D3KooW/)
      assert.match(node.stdout, PHRASE_LINE, 'a start that creates the repo prints the phrase')
      assertFullAddrs(node.addrs, node.peerId)
    }
  })

  it('all list each other in peers --json, with exactly the contract keys', async () => {
    await net.waitConnected()
    for (const node of nodes) {
      const peers: any[] = await node.json(['peers'])
      const ids = peers.map(p => p.peerId).sort()
      assert.deepEqual(ids, nodes.filter(n => n !== node).map(n => n.peerId).sort())
      for (const peer of peers) {
        assert.deepEqual(sortedKeys(peer), ['addrs', 'peerId'])
        assertFullAddrs(peer.addrs, peer.peerId)
      }
    }
  })

  it('status --json has exactly the contract keys and this node\'s values', async () => {
    const [node] = nodes
    const status = await node.json(['status'])
    // the contract's keys, and `memory`, which the contract allows as an addition
    assert.deepEqual(sortedKeys(status), ['addrs', 'degraded', 'memory', 'peerId', 'peers', 'schedule', 'snapshots', 'storage'])
    assert.ok(status.memory.rss > 0)
    assert.deepEqual(sortedKeys(status.storage), ['limit', 'used', 'users'])
    assert.deepEqual(status.storage.users, [], 'no peer stores anything here yet')
    assert.equal(status.peerId, node.peerId)
    assert.deepEqual([...status.addrs].sort(), [...node.addrs].sort())
    assert.equal(status.peers, 2)
    assert.equal(status.snapshots, 0)
    assert.equal(status.degraded, 0)
    assert.deepEqual(status.schedule, [])
    assert.equal(status.storage.used, 0)
    assert.equal(status.storage.limit, 10 * 1024 ** 3, 'the default limit from config/default.json')
    // plain output names the same peer id
    const plain = await node.run(['status'])
    assert.equal(plain.code, 0)
    assert.match(plain.stdout, new RegExp(`^peer id: ${node.peerId}$`, 'm'))
  })

  it('the API refuses a request without the right token (401)', async () => {
    const [node] = nodes
    const url = await node.apiUrl()
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const none = await fetch(`${url}/v1/status`, { method: 'POST', body: '{}' })
    assert.equal(none.status, 401)
    const wrong = await fetch(`${url}/v1/status`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${'0'.repeat(64)}` } })
    assert.equal(wrong.status, 401)
    // the same request with the token in the repo succeeds: the 401 was about the token
    const token = (await readFile(join(node.repo, 'api.token'), 'utf8')).trim()
    const ok = await fetch(`${url}/v1/status`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${token}` } })
    assert.equal(ok.status, 200)
    assert.match(await ok.text(), new RegExp(node.peerId))
  })

  it('the API refuses a request for a host other than loopback (DNS rebinding), even with the token (403)', async () => {
    const [node] = nodes
    const url = new URL(await node.apiUrl())
    const token = (await readFile(join(node.repo, 'api.token'), 'utf8')).trim()
    const ask = async (host: string): Promise<{ status: number, body: string }> => new Promise((resolve, reject) => {
      const req = httpRequest({ hostname: url.hostname, port: url.port, path: '/v1/status', method: 'POST', headers: { host, authorization: `Bearer ${token}` } }, res => {
        let body = ''
        res.on('data', d => { body += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end('{}')
    })
    for (const host of ['evil.example', 'evil.example:80', `attacker.test:${url.port}`, '10.0.0.1', '127.0.0.1.nip.io']) {
      const answer = await ask(host)
      assert.equal(answer.status, 403, host)
      assert.match(answer.body, /loopback hosts only/)
    }
    for (const host of [`127.0.0.1:${url.port}`, `localhost:${url.port}`, 'localhost']) {
      const answer = await ask(host)
      assert.equal(answer.status, 200, host)
      assert.match(answer.body, new RegExp(node.peerId))
    }
  })

  it('a second start on a running repo is refused', async () => {
    const [node] = nodes
    const result = await runCli(['start', '--repo', node.repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--api', '127.0.0.1:0'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    assert.equal(result.code, 1)
    assert.match(oneLine(result), /already running/)
    // the running node is untouched
    assert.ok(node.running)
    const status = await node.json(['status'])
    assert.equal(status.peerId, node.peerId)
  })

  it('stop ends the daemon with exit 0 and removes <repo>/api; status then exits 1', async () => {
    const node = nodes[1]
    const result = await node.run(['stop'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await node.exited, 0)
    assert.equal(existsSync(join(node.repo, 'api')), false, 'api file removed')
    const status = await node.run(['status'])
    assert.equal(status.code, 1)
    assert.equal(oneLine(status), noNodeLine(node.repo))
    const peers = await node.run(['peers', '--json'])
    assert.equal(peers.code, 1)
    assert.equal(oneLine(peers), noNodeLine(node.repo))
  })

  it('SIGTERM ends the daemon with exit 0 and removes <repo>/api', async () => {
    const node = nodes[2]
    assert.equal(await node.stop(), 0)
    assert.equal(existsSync(join(node.repo, 'api')), false, 'api file removed')
  })

  it('a restarted node keeps its peer id and rejoins', async () => {
    const node = nodes[2]
    const before = node.peerId
    await node.start({ bootstrap: [nodes[0].addrs[0]] })
    assert.equal(node.peerId, before)
    assert.doesNotMatch(node.stdout, PHRASE_LINE, 'no new phrase for an existing repo')
    await waitFor(async () => {
      const peers: any[] = await nodes[0].json(['peers'])
      return peers.some(p => p.peerId === before)
    }, 30_000, 'the restarted node did not rejoin')
    const status = await node.json(['status'])
    assert.equal(status.peerId, before)
  })
})

describe('usage and config errors', () => {
  const net = new TestNetwork()
  after(async () => { await net.close() })

  async function startWithConfig (config: unknown): Promise<{ repo: string, result: RunResult }> {
    const repo = join(await net.dir(), 'repo')
    await mkdir(repo)
    await writeFile(join(repo, 'config.json'), JSON.stringify(config))
    const result = await runCli(['start', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--api', '127.0.0.1:0'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    return { repo, result }
  }

  it('a bad config value exits 1 with one line naming the key, the value and what is allowed', async () => {
    const { repo, result } = await startWithConfig({ storage: { limit: 'lots' } })
    assert.equal(result.code, 1)
    const line = oneLine(result)
    assert.match(line, /storage\.limit/)
    assert.match(line, /"lots"/)
    assert.match(line, /size/)
    // the failed start created no identity whose phrase nobody saw: init still works
    assert.doesNotMatch(result.stdout, PHRASE_LINE)
    const init = await runCli(['init', '--repo', repo])
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stdout, PHRASE_LINE)
  })

  it('a first start that fails after creating the repo (its API port taken) has shown the phrase of the identity it made', async () => {
    const busy = createServer()
    await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
    try {
      const port = (busy.address() as AddressInfo).port
      const repo = join(await net.dir(), 'repo')
      const result = await runCli(['start', '--repo', repo, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${port}`], { timeoutMs: FAILING_START_TIMEOUT_MS })
      assert.equal(result.code, 1)
      assert.match(oneLine(result), /EADDRINUSE/)
      const phrase = PHRASE_LINE.exec(result.stdout)?.[1]
      assert.ok(phrase != null, `the phrase was shown: ${result.stdout}`)
      // the identity it made is the phrase's: the next start runs it without a new phrase
      const node = await net.addNode({ repo, bootstrap: [] })
      assert.doesNotMatch(node.stdout, PHRASE_LINE)
      const recovered = join(await net.dir(), 'repo')
      assert.equal((await runCli(['init', '--repo', recovered, '--recover'], { input: phrase })).code, 0)
      assert.equal((await net.addNode({ repo: recovered, bootstrap: [] })).peerId, node.peerId)
    } finally {
      busy.close()
    }
  })

  it('a bad value of another type names its key', async () => {
    const { result } = await startWithConfig({ mdns: { intervalMs: -5 } })
    assert.equal(result.code, 1)
    assert.match(oneLine(result), /mdns\.intervalMs/)
  })

  it('an unknown config key exits 1 with one line naming it', async () => {
    const top = await startWithConfig({ colour: 'blue' })
    assert.equal(top.result.code, 1)
    assert.match(oneLine(top.result), /unknown key colour/)
    const nested = await startWithConfig({ replication: { priority: 'high', speed: 3 } })
    assert.equal(nested.result.code, 1)
    assert.match(oneLine(nested.result), /unknown key replication\.speed/)
  })

  it('a config.json that is not JSON exits 1 with one line', async () => {
    const repo = join(await net.dir(), 'repo')
    await mkdir(repo)
    await writeFile(join(repo, 'config.json'), '{ storage: ')
    const result = await runCli(['start', '--repo', repo, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    assert.equal(result.code, 1)
    assert.match(oneLine(result), /config\.json/)
  })

  it('an unknown flag exits 2', async () => {
    const repo = join(await net.dir(), 'repo')
    const start = await runCli(['start', '--repo', repo, '--no-mdns', '--frobnicate'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    assert.equal(start.code, 2)
    assert.match(start.stderr, /--frobnicate/)
    assert.equal(existsSync(repo), false, 'nothing created on a usage error')
    const status = await runCli(['status', '--repo', repo, '--frobnicate'])
    assert.equal(status.code, 2)
    assert.match(status.stderr, /--frobnicate/)
  })

  it('a malformed argument exits 2', async () => {
    const repo = join(await net.dir(), 'repo')
    const result = await runCli(['start', '--repo', repo, '--no-mdns', '--storage-limit', 'lots'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    assert.equal(result.code, 2)
    assert.match(oneLine(result), /--storage-limit/)
  })

  it('an --api on another host than loopback exits 2 before any repo is made, and config api likewise fails start with the key', async () => {
    const repo = join(await net.dir(), 'repo')
    const result = await runCli(['start', '--repo', repo, '--no-mdns', '--api', '0.0.0.0:0'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    assert.equal(result.code, 2, result.stderr)
    assert.match(oneLine(result), /^error: invalid --api "0\.0\.0\.0:0": the control API listens on loopback only/)
    assert.equal(existsSync(repo), false, 'no repo made')
    await mkdir(repo, { recursive: true })
    await writeFile(join(repo, 'config.json'), JSON.stringify({ api: '192.168.1.5:5001' }))
    const fromConfig = await runCli(['start', '--repo', repo, '--no-mdns'], { timeoutMs: FAILING_START_TIMEOUT_MS })
    assert.equal(fromConfig.code, 1, fromConfig.stderr)
    assert.match(oneLine(fromConfig), /api is "192\.168\.1\.5:5001": the control API listens on loopback only/)
  })

  it('a malformed or incomplete address exits 2 before any repo is made', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--listen', '/ip4/127.0.0.1/tcp/99999'], /^error: invalid --listen "\/ip4\/127\.0\.0\.1\/tcp\/99999": expected a multiaddr/],
      // libp2p's bootstrap would skip it without a word
      [['--bootstrap', '/ip4/127.0.0.1/tcp/4001'], /^error: invalid --bootstrap .*ending in \/p2p\/<peer id>/],
      [['--bootstrap', '/ip4/127.0.0.1/tcp/4001/p2p/notapeer'], /^error: invalid --bootstrap .*"notapeer" is not a peer id/]
    ]
    for (const [args, line] of cases) {
      const repo = join(await net.dir(), 'repo')
      const result = await runCli(['start', '--repo', repo, '--no-mdns', '--api', '127.0.0.1:0', ...args], { timeoutMs: FAILING_START_TIMEOUT_MS })
      assert.equal(result.code, 2, result.stderr)
      assert.match(oneLine(result), line)
      assert.equal(existsSync(repo), false, 'no repo, so no phrase nobody saw')
    }
  })

  it('an unknown command exits 2', async () => {
    const result = await runCli(['frobnicate'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /frobnicate/)
    const none = await runCli([])
    assert.equal(none.code, 2)
  })

  it('status, peers and stop on a repo with no running node exit 1 with the contract\'s line', async () => {
    const repo = join(await net.dir(), 'never-started')
    for (const command of ['status', 'peers', 'stop']) {
      const result = await runCli([command, '--repo', repo])
      assert.equal(result.code, 1, command)
      assert.equal(oneLine(result), noNodeLine(repo))
    }
    // BACKPACK_REPO chooses the repo when --repo is absent
    const viaEnv = await runCli(['status'], { env: { BACKPACK_REPO: repo } })
    assert.equal(viaEnv.code, 1)
    assert.equal(oneLine(viaEnv), noNodeLine(repo))
  })

  it('after SIGKILL status says no node runs, and the node starts again; SIGINT stops it with exit 0', async () => {
    const node = await net.addNode({ bootstrap: [] })
    await node.kill()
    assert.equal(existsSync(join(node.repo, 'api')), true, 'SIGKILL gives no chance to clean up')
    const status = await node.run(['status'])
    assert.equal(status.code, 1)
    assert.equal(oneLine(status), noNodeLine(node.repo))
    // and the stale lock does not block the next start
    await node.start()
    assert.equal((await node.json(['status'])).peerId, node.peerId)
    // SIGINT (Ctrl-C) stops it cleanly, as SIGTERM does
    node.proc?.kill('SIGINT')
    assert.equal(await node.exited, 0)
    assert.equal(existsSync(join(node.repo, 'api')), false, 'api file removed')
  })
})

describe('recovery phrase', () => {
  const net = new TestNetwork()
  after(async () => { await net.close() })

  it('init prints the phrase; --recover (stdin and BACKPACK_RECOVERY_PHRASE) rebuilds the same peer id', async () => {
    const original = join(await net.dir(), 'repo')
    const init = await runCli(['init', '--repo', original])
    assert.equal(init.code, 0, init.stderr)
    const phrase = PHRASE_LINE.exec(init.stdout)?.[1]
    assert.ok(phrase != null, `no phrase in: ${init.stdout}`)
    assert.equal(phrase.split(' ').length, 24)

    // a second init on the same repo is refused
    const again = await runCli(['init', '--repo', original])
    assert.equal(again.code, 1)
    assert.match(oneLine(again), /already exists/)

    const viaStdin = join(await net.dir(), 'repo')
    const recovered = await runCli(['init', '--repo', viaStdin, '--recover'], { input: `  ${phrase.toUpperCase()}\n` })
    assert.equal(recovered.code, 0, recovered.stderr)
    assert.doesNotMatch(recovered.stdout, PHRASE_LINE, 'a recovered phrase is not printed again')

    const viaEnv = join(await net.dir(), 'repo')
    const fromEnv = await runCli(['init', '--repo', viaEnv, '--recover'], { env: { BACKPACK_RECOVERY_PHRASE: phrase } })
    assert.equal(fromEnv.code, 0, fromEnv.stderr)

    const other = join(await net.dir(), 'repo')
    assert.equal((await runCli(['init', '--repo', other])).code, 0)

    // nodes are not joined (no bootstrap, --no-mdns), so the same identity may run twice
    const started = await Promise.all([original, viaStdin, viaEnv, other].map(async repo => net.addNode({ repo, bootstrap: [] })))
    const [a, b, c, d] = started.map(n => n.peerId)
    assert.match(a, /^12D3KooW/)
    assert.equal(b, a)
    assert.equal(c, a)
    assert.notEqual(d, a, 'another phrase is another identity')
  })

  it('a bad phrase exits 1 with one line and creates no repo', async () => {
    const bad = [
      'not a recovery phrase',
      Array(24).fill('abandon').join(' '), // 24 real words, wrong checksum
      Array(11).fill('abandon').join(' ') + ' about' // a valid 12-word phrase: too short
    ]
    for (const phrase of bad) {
      const repo = join(await net.dir(), 'repo')
      const result = await runCli(['init', '--repo', repo, '--recover'], { input: phrase })
      assert.equal(result.code, 1, phrase)
      assert.match(oneLine(result), /recovery phrase/)
      assert.equal(existsSync(join(repo, 'keys.json')), false)
    }
    const empty = await runCli(['init', '--repo', join(await net.dir(), 'repo'), '--recover'], { env: { BACKPACK_RECOVERY_PHRASE: 'zzz' } })
    assert.equal(empty.code, 1)
  })
})

describe('private networks (swarm key)', () => {
  const net = new TestNetwork()
  after(async () => { await net.close() })

  async function repoWithKey (keyFile: string): Promise<string> {
    const repo = join(await net.dir(), 'repo')
    const result = await runCli(['init', '--repo', repo, '--swarm-key', keyFile])
    assert.equal(result.code, 0, result.stderr)
    return repo
  }

  it('nodes sharing a swarm key connect; a node with another key does not', async () => {
    const dir = await net.dir()
    const keys: string[] = []
    for (const name of ['one.key', 'two.key']) {
      const result = await runCli(['swarm-key'])
      assert.equal(result.code, 0)
      assert.match(result.stdout, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
      const path = join(dir, name)
      await writeFile(path, result.stdout)
      keys.push(path)
    }
    assert.notEqual(await readFile(keys[0], 'utf8'), await readFile(keys[1], 'utf8'))

    const a = await net.addNode({ repo: await repoWithKey(keys[0]), bootstrap: [] })
    const [b, c] = await Promise.all([
      net.addNode({ repo: await repoWithKey(keys[0]), bootstrap: [a.addrs[0]] }),
      net.addNode({ repo: await repoWithKey(keys[1]), bootstrap: [a.addrs[0]] })
    ])
    await waitFor(async () => {
      const peers: any[] = await a.json(['peers'])
      return peers.some(p => p.peerId === b.peerId)
    }, 30_000, 'nodes with the same swarm key did not connect')
    // c dialed a as early as b did; give it a little longer all the same
    await sleep(2000)
    const aPeers: any[] = await a.json(['peers'])
    assert.deepEqual(aPeers.map(p => p.peerId), [b.peerId])
    assert.deepEqual(await c.json(['peers']), [])
    assert.equal((await c.json(['status'])).peers, 0)
  })

  it('init refuses a file that is not a swarm key', async () => {
    const dir = await net.dir()
    const path = join(dir, 'bad.key')
    await writeFile(path, 'hello\n')
    const repo = join(dir, 'repo')
    const result = await runCli(['init', '--repo', repo, '--swarm-key', path])
    assert.equal(result.code, 1)
    assert.match(oneLine(result), /swarm key/)
    const missing = await runCli(['init', '--repo', repo, '--swarm-key', join(dir, 'nope.key')])
    assert.equal(missing.code, 1)
    assert.match(oneLine(missing), /swarm key/)
  })
})
