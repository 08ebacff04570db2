// mDNS proven for real: `backpack start` nodes in separate netlab hosts
// (network namespaces on one bridge, ../shared/netlab) with no bootstrap
// address find each other. mDNS never runs in the machine's own network
// namespace: every node here runs inside a netlab host.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TestNetwork, TestNode, waitAllConnected, sleep } from '../helpers/cli.js'
import { hostAddr, inHost, labSkipReason, netlab as lab } from './netlab.js'

/** Our own lab name prefix, so that another lab on the machine is left alone. */
const PREFIX = 'bpt-'
/** Hosts whose nodes run mDNS, and one more whose node runs with --no-mdns. */
const MDNS_HOSTS = 3
const HOSTS = MDNS_HOSTS + 1
/** Query every second instead of the default 10 s: the test waits less. */
const LAB_CONFIG = { mdns: { intervalMs: 1000 } }
const DISCOVERY_TIMEOUT_MS = 30_000

const netlab = (...args: string[]): ReturnType<typeof lab> => lab(PREFIX, ...args)

describe('mDNS between netlab hosts', () => {
  const reason = labSkipReason()
  const net = new TestNetwork()
  let labUp = false

  before(async () => {
    if (reason != null) return
    const up = netlab('up', String(HOSTS))
    labUp = true
    assert.equal(up.code, 0, `netlab up failed: ${up.output}`)
  })

  after(async () => {
    try {
      await net.close()
    } finally {
      // always, even when `up` failed half way: down is idempotent
      if (labUp) {
        const down = netlab('down')
        if (down.code !== 0) process.stderr.write(`netlab down failed: ${down.output}\n`)
      }
    }
  })

  it('nodes with no bootstrap address find each other; a node with --no-mdns finds no one', async t => {
    if (reason != null) {
      t.skip(reason)
      return
    }
    const nodes: TestNode[] = []
    for (let i = 1; i <= HOSTS; i++) {
      const repo = join(await net.dir(), 'repo')
      await mkdir(repo)
      await writeFile(join(repo, 'config.json'), JSON.stringify(LAB_CONFIG))
      // `--api 127.0.0.1:0` is the host's own lo, so the CLI runs in the host too
      const node = new TestNode(repo, { wrap: inHost(PREFIX, i) })
      net.nodes.push(node)
      nodes.push(node)
    }
    const mdnsNodes = nodes.slice(0, MDNS_HOSTS)
    const loner = nodes[MDNS_HOSTS]
    await Promise.all(nodes.map(async (node, i) => node.start({
      bootstrap: [],
      listen: [`/ip4/${hostAddr(i + 1)}/tcp/0`],
      mdns: node !== loner
    })))
    for (const [i, node] of nodes.entries()) {
      assert.ok(node.addrs.length > 0 && node.addrs.every(a => a.startsWith(`/ip4/${hostAddr(i + 1)}/tcp/`)), `h${i + 1} listens on its lab address: ${node.addrs.join(' ')}`)
    }

    await waitAllConnected(mdnsNodes, DISCOVERY_TIMEOUT_MS, 'the mDNS nodes did not all find each other')

    for (const [i, node] of mdnsNodes.entries()) {
      const peers: Array<{ peerId: string, addrs: string[] }> = await node.json(['peers'])
      for (const peer of peers) {
        const j = nodes.findIndex(n => n.peerId === peer.peerId)
        assert.notEqual(j, i, 'a node does not list itself')
        assert.ok(j >= 0 && j < MDNS_HOSTS, `h${i + 1} lists only mDNS nodes: ${peer.peerId}`)
        assert.ok(peer.addrs.some(a => a.startsWith(`/ip4/${hostAddr(j + 1)}/tcp/`)), `found at its lab address: ${peer.addrs.join(' ')}`)
      }
    }

    // the node without mDNS answers no query and asks none: it stays alone,
    // which shows the others found each other by mDNS and nothing else
    await sleep(3000)
    assert.deepEqual(await loner.json(['peers']), [])
    for (const node of mdnsNodes) {
      const peers: Array<{ peerId: string }> = await node.json(['peers'])
      assert.ok(!peers.some(p => p.peerId === loner.peerId), 'nobody found the --no-mdns node')
    }
  })
})
