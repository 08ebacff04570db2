import cliProgress from 'cli-progress'
import type { ApiClient, CallOptions } from '../api/client.js'

/**
 * Progress drawn from the node's events, on stderr and only on a TTY (none
 * with --json or when piped): a bar with rate and ETA where the total is
 * known, else an honest count of what is done so far.
 */
export class ProgressBar {
  private bar?: cliProgress.SingleBar
  private readonly enabled: boolean
  private started = 0

  constructor (options: { json?: boolean }) {
    this.enabled = process.stderr.isTTY === true && options.json !== true
  }

  onEvent = (event: any): void => {
    if (!this.enabled || typeof event?.type !== 'string') return
    const { done, total, line } = describe(event)
    if (this.bar == null) {
      this.started = Date.now()
      this.bar = new cliProgress.SingleBar({
        stream: process.stderr,
        format: total != null ? '{bar} {percentage}% | {line} | {rate} | ETA {eta_formatted}' : '{line} | {rate}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50
      }, cliProgress.Presets.shades_classic)
      this.bar.start(Math.max(total ?? 1, 1), 0, { line, rate: '' })
    }
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001)
    if (total != null) this.bar.setTotal(Math.max(total, 1))
    this.bar.update(total != null ? done : 0, { line, rate: `${(done / seconds / 1e6).toFixed(1)} MB/s` })
  }

  stop (): void {
    this.bar?.stop()
    this.bar = undefined
  }
}

/** Bytes done, the total when known, and the words of one event. */
function describe (event: any): { done: number, total?: number, line: string } {
  switch (event.type) {
    case 'backpack:put:progress':
      return { done: Number(event.bytes) || 0, line: `${event.files} files, ${mb(event.size)} so far (${event.unchanged} unchanged), ${mb(event.added)} added` }
    case 'backpack:get:progress': {
      const total = event.totalBytes != null ? Number(event.totalBytes) : undefined
      const files = event.totalFiles != null ? `${event.files} of ${event.totalFiles} files` : `${event.files} files`
      return { done: Number(event.bytes) || 0, total, line: `${files}, ${mb(event.bytes)}${total != null ? ` of ${mb(total)}` : ' so far'}` }
    }
    case 'backpack:verify:progress':
      return { done: Number(event.done) || 0, total: Number(event.total) || 0, line: `${mb(event.done)} of ${mb(event.total)} checked` }
    case 'backpack:reclaim:progress':
      return { done: Number(event.done) || 0, total: Number(event.total) || 0, line: `${mb(event.done)} of ${mb(event.total)} handed on` }
    default:
      return { done: 0, line: String(event.type) }
  }
}

function mb (bytes: unknown): string {
  return `${((Number(bytes) || 0) / 1e6).toFixed(1)} MB`
}

/** Call a route with a progress bar; the bar goes away before anything is printed. Ctrl-C cancels the call. */
export async function withProgress<T> (client: ApiClient, route: string, body: unknown, json?: boolean, options: Pick<CallOptions, 'onItem'> = {}): Promise<T> {
  const bar = new ProgressBar({ json })
  const controller = new AbortController()
  const onSignal = (): void => { controller.abort() }
  process.once('SIGINT', onSignal)
  try {
    return await client.call<T>(route, body, { ...options, onProgress: bar.onEvent, signal: controller.signal })
  } finally {
    process.off('SIGINT', onSignal)
    bar.stop()
  }
}
