import cliProgress from 'cli-progress'
import type { ApiClient } from '../api/client.js'

/**
 * A progress bar (bytes, rate, ETA) drawn from the node's progress events,
 * on stderr and only on a TTY: none with --json or when piped.
 */
export class ProgressBar {
  private bar?: cliProgress.SingleBar
  private readonly enabled: boolean
  private readonly totals = new Map<string, { done: number, total: number }>()

  constructor (options: { json?: boolean }) {
    this.enabled = process.stderr.isTTY === true && options.json !== true
  }

  /** Handle an event `{ type: 'put:file' | 'put:bytes' | 'get:file' | 'get:bytes', name, done?, total }`. */
  onEvent = (event: any): void => {
    if (!this.enabled || typeof event?.name !== 'string') return
    if (String(event.type).endsWith(':file')) {
      this.totals.set(event.name, { done: 0, total: Number(event.total) || 0 })
    } else if (String(event.type).endsWith(':bytes')) {
      const entry = this.totals.get(event.name) ?? { done: 0, total: Number(event.total) || 0 }
      entry.done = Number(event.done) || 0
      this.totals.set(event.name, entry)
    }
    let done = 0
    let total = 0
    for (const t of this.totals.values()) { done += t.done; total += t.total }
    if (this.bar == null) {
      this.bar = new cliProgress.SingleBar({
        stream: process.stderr,
        format: '{bar} {percentage}% | {done} / {size} | {rate} | ETA {eta_formatted} | {name}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50
      }, cliProgress.Presets.shades_classic)
      this.bar.start(Math.max(total, 1), 0, { name: event.name, done: mb(0), size: mb(total), rate: '' })
      this.started = Date.now()
    }
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001)
    this.bar.setTotal(Math.max(total, 1))
    this.bar.update(done, { name: event.name, done: mb(done), size: mb(total), rate: `${(done / seconds / 1e6).toFixed(1)} MB/s` })
  }

  private started = 0

  stop (): void {
    this.bar?.stop()
    this.bar = undefined
  }
}

function mb (bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

/** Call a route with a progress bar; the bar goes away before anything is printed. Ctrl-C cancels the call. */
export async function withProgress<T> (client: ApiClient, route: string, body: unknown, json?: boolean): Promise<T> {
  const bar = new ProgressBar({ json })
  const controller = new AbortController()
  const onSignal = (): void => { controller.abort() }
  process.once('SIGINT', onSignal)
  try {
    return await client.call<T>(route, body, { onProgress: bar.onEvent, signal: controller.signal })
  } finally {
    process.off('SIGINT', onSignal)
    bar.stop()
  }
}
