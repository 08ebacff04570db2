// The ceiling: a plain libp2p stream (TCP + noise + yamux) between two
// processes moving the same bytes as the file. See ceiling-peer.ts.
import { fileURLToPath } from 'node:url'
import { Peer, runMeasured } from './proc.js'
import { peakRss } from './rss.js'

const PEER_SCRIPT = fileURLToPath(new URL('./ceiling-peer.js', import.meta.url))

export interface CeilingResult {
  /** MB/s (10^6 bytes per second) per run */
  mbps: number[]
  /** Peak RSS in bytes of the receiving and the sending process */
  rss: { receiver: number, sender: number }
}

export async function measureCeiling (bytes: number, runs: number): Promise<CeilingResult> {
  const receiver = new Peer([PEER_SCRIPT, 'serve'])
  try {
    const addr = (await receiver.line(/^addr: (\S+)$/m))[1]
    const sent = await runMeasured([PEER_SCRIPT, 'send', addr, String(bytes), String(runs)])
    if (sent.code !== 0) throw new Error(`ceiling sender exited ${sent.code}: ${sent.stderr.slice(-2000)}`)
    const mbps = sent.stdout.trim().split('\n').map(line => {
      const { bytes, ms } = JSON.parse(line) as { bytes: number, ms: number }
      return bytes / 1e6 / (ms / 1000)
    })
    return { mbps, rss: { receiver: await peakRss(receiver.pid) ?? 0, sender: sent.peakRss } }
  } finally {
    await receiver.stop()
  }
}
