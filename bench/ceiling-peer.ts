// One side of the ceiling measurement, run as its own process:
//   node dist/bench/ceiling-peer.js serve
//     prints `addr: <multiaddr>`, counts the bytes of each inbound stream and
//     answers one byte when the sender has closed; prints `{"bytes","cpuMs"}`
//     per stream (its CPU time from the stream's opening to the answer); runs
//     until stdin closes.
//   node dist/bench/ceiling-peer.js send ADDR BYTES RUNS
//     after a 32 MiB warm-up, opens RUNS streams one after another, writes BYTES in 1 MiB writes with
//     backpressure, waits for the answer; prints `{"bytes","ms","cpuMs"}` per run.
// A plain libp2p stream with backpack's transport, encryption and muxer.
import '../src/util/polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2p, Stream } from '@libp2p/interface'

export const CEILING_PROTOCOL = '/backpack-bench/ceiling/1.0.0'
const WRITE_BYTES = 1024 * 1024
const WARMUP_BYTES = 32 * 1024 * 1024

/** CPU ms (user + system, every thread) this process used since `from` */
function cpuMsSince (from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000
}

async function createPeer (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] }
  })
}

async function serve (): Promise<void> {
  const node = await createPeer()
  await node.handle(CEILING_PROTOCOL, async (stream: Stream) => {
    try {
      const cpu = process.cpuUsage()
      let bytes = 0
      for await (const chunk of stream) bytes += chunk.byteLength
      stream.send(new Uint8Array([bytes > 0 ? 1 : 0]))
      await stream.close()
      process.stdout.write(JSON.stringify({ bytes, cpuMs: cpuMsSince(cpu) }) + '\n')
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  process.stdout.write(`addr: ${node.getMultiaddrs()[0].toString()}\n`)
  const stop = (): void => { void Promise.resolve(node.stop()).finally(() => process.exit(0)) }
  process.stdin.on('end', stop).resume()
  process.on('SIGTERM', stop)
}

async function send (addr: string, total: number, runs: number): Promise<void> {
  const node = await createPeer()
  const payload = new Uint8Array(WRITE_BYTES).map((_, i) => (i * 7919) & 0xff)
  const conn = await node.dial(multiaddr(addr))
  // one unreported warm-up run of WARMUP_BYTES: the JIT, not the wire, slows a first run
  for (let run = -1; run < runs; run++) {
    const bytes = run < 0 ? Math.min(WARMUP_BYTES, total) : total
    const started = performance.now()
    const cpu = process.cpuUsage()
    const stream = await conn.newStream(CEILING_PROTOCOL)
    let sent = 0
    while (sent < bytes) {
      const n = Math.min(WRITE_BYTES, bytes - sent)
      const full = !stream.send(n === WRITE_BYTES ? payload : payload.subarray(0, n))
      sent += n
      if (full) {
        await new Promise<void>((resolve, reject) => {
          stream.addEventListener('drain', () => resolve(), { once: true })
          stream.addEventListener('close', () => reject(new Error('stream closed while sending')), { once: true })
        })
      }
    }
    await stream.close()
    for await (const _ of stream) { /* the one-byte answer */ }
    if (run < 0) continue
    process.stdout.write(JSON.stringify({ bytes: total, ms: performance.now() - started, cpuMs: cpuMsSince(cpu) }) + '\n')
  }
  await node.stop()
}

const [role, ...args] = process.argv.slice(2)
if (role === 'serve') {
  await serve()
} else if (role === 'send') {
  await send(args[0], Number(args[1]), Number(args[2] ?? 1))
  process.exit(0)
} else {
  process.stderr.write('usage: ceiling-peer.js serve | send ADDR BYTES RUNS\n')
  process.exit(2)
}
