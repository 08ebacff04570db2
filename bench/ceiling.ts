// The ceiling: a plain libp2p stream (TCP + noise + yamux) between two
// processes moving the same bytes as the file. See ceiling-peer.ts.
import { fileURLToPath } from 'node:url'
import { Peer, runMeasured } from './proc.js'
import { peakRss } from './rss.js'

const PEER_SCRIPT = fileURLToPath(new URL('./ceiling-peer.js', import.meta.url))

export interface CeilingResult {
  /** MB/s (10^6 bytes per second) per run */
  mbps: number[]
  /** CPU ms of both processes per run */
  cpuMs: number[]
  /** Peak RSS in bytes of the receiving and the sending process */
  rss: { receiver: number, sender: number }
}

/** The JSON lines of a peer's output */
function lines (stdout: string): unknown[] {
  return stdout.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line))
}

export async function measureCeiling (bytes: number, runs: number): Promise<CeilingResult> {
  const receiver = new Peer([PEER_SCRIPT, 'serve'])
  try {
    const addr = (await receiver.line(/^addr: (\S+)$/m))[1]
    const sent = await runMeasured([PEER_SCRIPT, 'send', addr, String(bytes), String(runs)])
    if (sent.code !== 0) throw new Error(`ceiling sender exited ${sent.code}: ${sent.stderr.slice(-2000)}`)
    const reported = lines(sent.stdout) as Array<{ bytes: number, ms: number, cpuMs: number }>
    // the receiver prints each stream's line after its answer: the last may still be on its way
    const deadline = Date.now() + 10_000
    while (lines(receiver.stdout).length < reported.length + 1 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    // its first stream was the sender's warm-up
    const received = lines(receiver.stdout).slice(1) as Array<{ cpuMs: number }>
    if (received.length !== reported.length) throw new Error(`the ceiling receiver reported ${received.length} of ${reported.length} runs`)
    return {
      mbps: reported.map(r => r.bytes / 1e6 / (r.ms / 1000)),
      cpuMs: reported.map((r, i) => r.cpuMs + received[i].cpuMs),
      rss: { receiver: await peakRss(receiver.pid) ?? 0, sender: sent.peakRss }
    }
  } finally {
    await receiver.stop()
  }
}
