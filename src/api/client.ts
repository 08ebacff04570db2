import { request } from 'node:http'
import { readFile } from 'node:fs/promises'
import { repoPaths } from '../repo/paths.js'

/** The node of the repo is not running (no api file, or nothing answers). */
export class NoNodeError extends Error {
  static override name = 'NoNodeError'
  override name = 'NoNodeError'
}

/** An error the node reported, with its typed name. */
export class RemoteError extends Error {
  constructor (name: string, message: string) {
    super(message)
    this.name = name
  }
}

export interface CallOptions {
  onProgress?: (event: any) => void
  /** Each item of a long answer, as it arrives */
  onItem?: (item: any) => void
  signal?: AbortSignal
}

/** Talks to the control API of a repo's running node. */
export class ApiClient {
  private constructor (private readonly url: URL, private readonly token: string, private readonly repo: string) {}

  static async forRepo (root: string): Promise<ApiClient> {
    const paths = repoPaths(root)
    let url: string
    let token: string
    try {
      url = (await readFile(paths.api, 'utf8')).trim()
      token = (await readFile(paths.token, 'utf8')).trim()
    } catch {
      throw new NoNodeError(noNodeMessage(root))
    }
    return new ApiClient(new URL(url), token, root)
  }

  /** Call `POST /v1/<route>`; resolves with its result, rejects with a RemoteError. */
  async call<T = any> (route: string, body: unknown = {}, options: CallOptions = {}): Promise<T> {
    const payload = JSON.stringify(body)
    return new Promise<T>((resolve, reject) => {
      const req = request(new URL(`/v1/${route}`, this.url), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload)
        },
        signal: options.signal
      }, res => {
        res.setEncoding('utf8')
        let buffered = ''
        let settled = false
        const onLine = (line: string): void => {
          if (line.trim() === '') return
          let msg: any
          try {
            msg = JSON.parse(line)
          } catch {
            settled = true
            reject(new RemoteError('ProtocolError', 'the node sent a malformed answer'))
            return
          }
          if (msg.progress != null) {
            options.onProgress?.(msg.progress)
          } else if ('item' in msg) {
            options.onItem?.(msg.item)
          } else if (msg.error != null) {
            settled = true
            reject(new RemoteError(msg.error.name, msg.error.message))
          } else if ('result' in msg) {
            settled = true
            resolve(msg.result)
          }
        }
        res.on('data', (text: string) => {
          buffered += text
          let i: number
          while ((i = buffered.indexOf('\n')) >= 0) {
            onLine(buffered.slice(0, i))
            buffered = buffered.slice(i + 1)
          }
        })
        res.on('end', () => {
          onLine(buffered)
          if (!settled) reject(new NoNodeError(`the node for repo ${this.repo} stopped before answering`))
        })
        res.on('error', reject)
      })
      req.on('error', (err: any) => {
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT' || err.code === 'ECONNRESET') {
          reject(new NoNodeError(noNodeMessage(this.repo)))
        } else {
          reject(err)
        }
      })
      req.end(payload)
    })
  }
}

export function noNodeMessage (root: string): string {
  return `no node is running for repo ${root}: start one with 'backpack start'`
}
