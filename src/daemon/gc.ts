import { setFlagsFromString } from 'node:v8'

/**
 * V8's heap growing factor for the daemon, in percent above the live heap.
 *
 * A daemon's JavaScript heap is small (about 25 MB), and with V8's default
 * factor its old-generation limit sat about 25 MB above it (`--trace-gc`):
 * moving chunks, V8 started a full mark-compact every 7-9 MiB of traffic, a
 * fifth to a third of every process's CPU in a transfer. At 300 % the limit
 * is four times the live heap, the heap itself stays about as small, and
 * chunk buffers are freed by the scavenges V8 starts once about 32 MB of
 * young ones exist (a few wait for a mark-compact). Measured by A/B runs and
 * `npm run bench` (see BENCHMARKS.md): gets and puts about 1.5x as fast.
 * 150, not 300: a put of 100,000 small files keeps more of its heap alive
 * for a while (nodes waiting for their pack), and with 300 % the owner grew
 * to 650 MiB of mostly garbage (200 %: 260 MiB, 150 %: 150-165 MiB).
 */
export const HEAP_GROWING_PERCENT = 150

/**
 * The V8 flags the daemon sets for itself: none that the user set on the
 * command line (Node refuses this flag in NODE_OPTIONS).
 */
export function gcFlags (execArgv: string[] = process.execArgv): string[] {
  const given = execArgv.map(arg => arg.replaceAll('_', '-'))
  return given.some(arg => arg.startsWith('--heap-growing-percent')) ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]
}

/** Apply `gcFlags()` to this process; V8 reads the factor at each collection. */
export function tuneGarbageCollector (): void {
  for (const flag of gcFlags()) setFlagsFromString(flag)
}
