import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { logger } from '@libp2p/logger'
import { BackpackError, describeError } from '../errors.js'

const log = logger('backpack:api')

/** Largest request body the control API reads. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024

/** What a route handler gets besides its JSON body. */
export interface RouteContext {
  /** Aborted when the client goes away */
  signal: AbortSignal
  /** Send a progress event to the client */
  progress: (event: Record<string, unknown>) => void
  /** Send one item of a long answer (a listing), as it is found */
  emit: (item: unknown) => void
}

export type Route = (body: any, context: RouteContext) => Promise<unknown>

export interface ApiServerInit {
  host: string
  port: number
  routes: Record<string, Route>
}

/**
 * The control API: HTTP on loopback, every request must carry the token as
 * `Authorization: Bearer <token>`. Every route is `POST /v1/<name>` with a
 * JSON body; the response is NDJSON: zero or more `{"progress": …}` and
 * `{"item": …}` lines (a long listing comes an item at a time, never held
 * whole), then one `{"result": …}` or `{"error": {"name", "message"}}` line.
 */
export class ApiServer {
  readonly token: string
  private readonly init: ApiServerInit
  private server?: Server

  constructor (init: ApiServerInit) {
    this.init = init
    this.token = randomBytes(32).toString('hex')
  }

  async start (): Promise<string> {
    const server = createServer((req, res) => { this.handle(req, res).catch(err => log.error('request failed %e', err)) })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.init.port, this.init.host, () => { server.off('error', reject); resolve() })
    })
    const address = server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  private authorized (req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? ''
    const given = Buffer.from(header.replace(/^Bearer /, ''))
    const expected = Buffer.from(this.token)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopbackHost(req.headers.host)) {
      // a page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) names its own host
      res.writeHead(403, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { name: 'ForbiddenError', message: `the control API answers requests for loopback hosts only, not ${JSON.stringify(req.headers.host ?? '')}` } }) + '\n')
      return
    }
    if (!this.authorized(req)) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { name: 'UnauthorizedError', message: 'missing or wrong API token' } }) + '\n')
      return
    }
    const match = /^\/v1\/([a-z-]+)$/.exec(req.url ?? '')
    const route = match != null && req.method === 'POST' ? this.init.routes[match[1]] : undefined
    if (route == null) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { name: 'NotFoundError', message: `no route ${req.method} ${req.url}` } }) + '\n')
      return
    }
    let body: unknown
    try {
      body = await readJson(req)
    } catch (err: any) {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { name: 'InvalidInputError', message: err.message } }) + '\n')
      return
    }
    const controller = new AbortController()
    res.on('close', () => { if (!res.writableFinished) controller.abort() })
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    const send = (line: unknown): void => { if (!res.destroyed) res.write(JSON.stringify(line) + '\n') }
    try {
      const result = await route(body, { signal: controller.signal, progress: event => send({ progress: event }), emit: item => send({ item }) })
      send({ result: result ?? null })
    } catch (err: any) {
      if (!(err instanceof BackpackError)) log.error('route %s failed %e', match?.[1], err)
      send({ error: describeError(err) })
    }
    res.end()
  }
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = []
  let length = 0
  for await (const part of req) {
    length += part.length
    if (length > MAX_REQUEST_BODY_BYTES) throw new Error('request body too large')
    parts.push(part)
  }
  if (length === 0) return {}
  return JSON.parse(Buffer.concat(parts).toString('utf8'))
}

/** Whether a request's Host header names this machine's loopback (127.x.x.x, ::1 or localhost, with any port). */
export function isLoopbackHost (host: string | undefined): boolean {
  if (host == null) return false
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
}
