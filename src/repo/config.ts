import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { multiaddr as parseMultiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidConfigError } from '../errors.js'
import { parseSize } from '../util/size.js'
import { DURATION_EXPECTED, parseDuration } from '../util/duration.js'
import { badPattern } from '../backup/exclude.js'

/**
 * Largest chunk the chunk protocol carries: a pack holding one blob of the
 * largest content-defined chunk (8 MiB by default; 16 MiB at most), sealed.
 */
export const MAX_CHUNK_SIZE_BYTES = 16 * 1024 * 1024 + 64 * 1024
/** Largest blob a chunker may cut (`chunking.maxSize`, `chunking.size`) */
export const MAX_BLOB_SIZE_BYTES = 16 * 1024 * 1024
export const MIN_CHUNK_SIZE_BYTES = 1024

const SIZE_EXPECTED = 'expected a size: a byte count or a number with a unit (500MB, 10GiB, 0)'

// the union's own message ("Invalid input") would not say what is allowed
const size = z.union([z.string(), z.number()], { error: SIZE_EXPECTED }).transform((value, ctx) => {
  const bytes = parseSize(value)
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: SIZE_EXPECTED })
    return z.NEVER
  }
  return bytes
})

/** Hosts the control API may listen on: loopback only (the contract) */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** Why the control API may not listen on HOST:PORT `value`, or undefined when it may. */
export function apiHostProblem (value: string): string | undefined {
  const host = value.slice(0, value.lastIndexOf(':'))
  if (LOOPBACK_HOSTS.has(host) || host.startsWith('127.')) return undefined
  return `the control API listens on loopback only (127.0.0.1 or ::1), not ${host}`
}

/** Why `value` is not a multiaddr, or undefined when it is one. */
export function multiaddrProblem (value: string): string | undefined {
  try {
    parseMultiaddr(value)
    return undefined
  } catch (err: any) {
    return `expected a multiaddr such as /ip4/127.0.0.1/tcp/4001 (${err.message})`
  }
}

/**
 * Why `value` cannot be a bootstrap address, or undefined when it can: a
 * multiaddr ending in /p2p/<peer id> (without one, libp2p's bootstrap
 * skips it without a word).
 */
export function bootstrapProblem (value: string): string | undefined {
  const problem = multiaddrProblem(value)
  if (problem != null) return problem
  const id = parseMultiaddr(value).getComponents().findLast(c => c.name === 'p2p')?.value
  if (id == null) return 'expected a full multiaddr ending in /p2p/<peer id>, as `backpack start` prints them'
  try {
    peerIdFromString(id)
    return undefined
  } catch {
    return `${JSON.stringify(id)} is not a peer id`
  }
}

function checked (problem: (value: string) => string | undefined): z.ZodType<string> {
  return z.string().superRefine((value, ctx) => {
    const why = problem(value)
    if (why != null) ctx.addIssue({ code: 'custom', message: why })
  })
}

const multiaddr = checked(multiaddrProblem)
const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected HOST:PORT such as 127.0.0.1:5001').superRefine((value, ctx) => {
  const why = apiHostProblem(value)
  if (why != null) ctx.addIssue({ code: 'custom', message: why })
})
const ms = z.number().int().nonnegative()
const count = z.number().int().nonnegative()
const pattern = checked(badPattern)
const blobSize = z.number().int().min(MIN_CHUNK_SIZE_BYTES).max(MAX_BLOB_SIZE_BYTES)
const duration = z.string().superRefine((value, ctx) => {
  if (parseDuration(value) === undefined) ctx.addIssue({ code: 'custom', message: DURATION_EXPECTED })
})
const positive = z.number().int().positive()

export const configSchema = z.object({
  listen: z.array(multiaddr),
  bootstrap: z.array(checked(bootstrapProblem)),
  mdns: z.object({ enabled: z.boolean(), intervalMs: positive }).strict(),
  api: hostPort,
  connections: z.object({ allow: z.array(multiaddr), maxConnections: positive }).strict(),
  dht: z.object({
    protocol: z.string().startsWith('/'),
    provideConcurrency: positive,
    providesPerSecond: positive
  }).strict(),
  storage: z.object({ limit: size, scrubIntervalMs: positive, peerShare: z.number().gt(0).lte(1) }).strict(),
  chunking: z.object({
    method: z.enum(['cdc', 'fixed']),
    minSize: blobSize,
    avgSize: blobSize,
    maxSize: blobSize,
    size: blobSize,
    packSize: blobSize
  }).strict().superRefine((c, ctx) => {
    if (!(c.minSize < c.avgSize && c.avgSize < c.maxSize)) ctx.addIssue({ code: 'custom', path: ['avgSize'], message: 'expected minSize < avgSize < maxSize' })
  }),
  compression: z.enum(['auto', 'off']),
  exclude: z.array(pattern),
  retention: z.object({
    keepLast: count.optional(),
    keepHourly: count.optional(),
    keepDaily: count.optional(),
    keepWeekly: count.optional(),
    keepMonthly: count.optional(),
    keepYearly: count.optional(),
    keepWithin: duration.optional()
  }).strict(),
  backups: z.array(z.object({
    paths: z.array(z.string().startsWith('/', 'expected an absolute path')).min(1),
    every: duration.refine(v => (parseDuration(v) ?? 0) > 0, 'expected a duration above 0'),
    exclude: z.array(pattern).optional(),
    priority: z.enum(['high', 'low']).optional()
  }).strict()),
  transfer: z.object({ chunksInFlight: z.number().int().min(1).max(256), requestTimeoutMs: positive }).strict(),
  replication: z.object({
    priority: z.enum(['high', 'low']),
    repairIntervalMs: positive,
    auditIntervalMs: positive,
    graceMs: ms,
    maxConcurrentRepairs: positive,
    leaseMs: positive,
    leaseCheckIntervalMs: positive
  }).strict()
}).strict()

export type Config = z.output<typeof configSchema>
/** What a config file or the flags may set: any subset, before validation. */
export type ConfigInput = Record<string, unknown>

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../../config/default.json', import.meta.url))

/** Replica counts of the two priorities. */
export const PRIORITY_REPLICAS = { high: 3, low: 2 } as const

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Deep merge: objects merge key by key, anything else replaces. */
export function mergeConfig (base: ConfigInput, ...layers: ConfigInput[]): ConfigInput {
  const out: ConfigInput = { ...base }
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue
      const prev = out[key]
      out[key] = isPlainObject(prev) && isPlainObject(value) ? mergeConfig(prev, value) : value
    }
  }
  return out
}

function describe (value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}

function valueAt (input: unknown, path: PropertyKey[]): unknown {
  let value: unknown = input
  for (const key of path) {
    if (!isPlainObject(value) && !Array.isArray(value)) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

/** Validate a merged config, failing with the key, the bad value and what is allowed. */
export function validateConfig (input: ConfigInput, source = 'config'): Config {
  const result = configSchema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : ''
    throw new InvalidConfigError(`invalid ${source}: unknown key ${prefix}${issue.keys[0]}`)
  }
  const key = issue.path.join('.')
  throw new InvalidConfigError(`invalid ${source}: ${key} is ${describe(valueAt(input, issue.path))}: ${issue.message}`)
}

/** Read a JSON config file; a missing file is an empty layer. */
export async function readConfigFile (path: string): Promise<ConfigInput> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') return {}
    throw new InvalidConfigError(`cannot read ${path}: ${err.message}`)
  }
  try {
    const parsed = JSON.parse(text)
    if (!isPlainObject(parsed)) throw new Error('not a JSON object')
    return parsed
  } catch (err: any) {
    throw new InvalidConfigError(`invalid config ${path}: ${err.message}`)
  }
}

/** Merge `change` into the repo's config.json (written atomically). */
export async function updateRepoConfig (path: string, change: ConfigInput): Promise<void> {
  const current = await readConfigFile(path)
  const { writeFileAtomic } = await import('./index.js')
  await writeFileAtomic(path, JSON.stringify(mergeConfig(current, change), null, 2) + '\n', 0o644)
}

/**
 * Defaults, then the repo's config.json, then flags; `extraBootstrap`
 * (`--bootstrap`) adds to the bootstrap addresses instead of replacing them.
 */
export async function loadConfig (repoConfigPath: string, flags: ConfigInput = {}, extraBootstrap: string[] = []): Promise<Config> {
  const defaults = await readConfigFile(DEFAULT_CONFIG_PATH)
  const repo = await readConfigFile(repoConfigPath)
  const merged = mergeConfig(defaults, repo, flags)
  if (extraBootstrap.length > 0) {
    merged.bootstrap = [...(Array.isArray(merged.bootstrap) ? merged.bootstrap : []), ...extraBootstrap]
  }
  return validateConfig(merged, repoConfigPath)
}
