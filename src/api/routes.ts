import { z } from 'zod'
import { InvalidInputError } from '../errors.js'
import { badName } from '../backup/walk.js'
import { badPattern } from '../backup/exclude.js'
import type { Route } from './server.js'
import type { Backpack } from '../daemon/backpack.js'

export interface RouteHooks {
  /** Stop the daemon after the answer is sent */
  stop: () => void
}

function parse<T extends z.ZodType> (schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new InvalidInputError(`bad request: ${issue.path.join('.')}: ${issue.message}`)
  }
  return result.data
}

const putBody = z.object({
  paths: z.array(z.string()).min(1),
  replicas: z.number().int().min(1).max(64).optional(),
  priority: z.enum(['high', 'low']).optional(),
  name: z.string().superRefine((name, ctx) => {
    const why = badName(name)
    if (why != null) ctx.addIssue({ code: 'custom', message: why })
  }).optional(),
  exclude: z.array(z.string().superRefine((pattern, ctx) => {
    const why = badPattern(pattern)
    if (why != null) ctx.addIssue({ code: 'custom', message: why })
  })).optional()
})

const getBody = z.object({
  ref: z.string().min(1),
  output: z.string().optional(),
  cwd: z.string(),
  force: z.boolean().optional()
})

const lsBody = z.object({ ref: z.string().min(1).optional() })
const rmBody = z.object({ refs: z.array(z.string().min(1)).min(1) })
const count = z.number().int().nonnegative().optional()
const forgetBody = z.object({
  policy: z.object({
    keepLast: count,
    keepHourly: count,
    keepDaily: count,
    keepWeekly: count,
    keepMonthly: count,
    keepYearly: count,
    keepWithin: z.number().int().nonnegative().optional()
  }).strict().optional(),
  dryRun: z.boolean().optional()
})
const verifyBody = z.object({ ref: z.string().min(1).optional() })
const reclaimBody = z.object({ limit: z.number().int().nonnegative() })

/** The control API's routes: one per CLI command that talks to the node. */
export function createRoutes (backpack: Backpack, hooks: RouteHooks): Record<string, Route> {
  return {
    status: async () => backpack.status(),
    peers: async () => backpack.peerList(),
    stop: async () => {
      hooks.stop()
      return { stopping: true }
    },
    put: async (body, { signal, progress }) => {
      const req = parse(putBody, body)
      return backpack.backups.put({
        paths: req.paths,
        name: req.name,
        exclude: req.exclude,
        replicas: backpack.replicasFor(req.replicas, req.priority),
        signal,
        onProgress: progress
      })
    },
    get: async (body, { signal, progress }) => {
      const req = parse(getBody, body)
      return backpack.backups.get({ ...req, signal, onProgress: progress })
    },
    ls: async (body, { signal, emit }) => {
      const { ref } = parse(lsBody, body)
      if (ref == null) return backpack.backups.list()
      await backpack.backups.ls(ref, emit, signal)
      return null
    },
    rm: async (body) => backpack.rm(parse(rmBody, body).refs),
    forget: async (body) => {
      const req = parse(forgetBody, body)
      return backpack.forget(req.policy, req.dryRun === true)
    },
    verify: async (body, { signal, progress }) => backpack.verify(parse(verifyBody, body).ref, signal, progress),
    reclaim: async (body, { signal, progress }) => backpack.reclaim(parse(reclaimBody, body).limit, signal, progress)
  }
}
