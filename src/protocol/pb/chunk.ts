import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Request {
  type: Request.Type
  cids: Uint8Array[]
  data: Uint8Array
  owner?: Uint8Array
  holder?: Uint8Array
  group?: Uint8Array
  manifest?: boolean
}

export namespace Request {
  export enum Type {
    PUT = 'PUT',
    GET = 'GET',
    HAS = 'HAS',
    DELETE = 'DELETE',
    RENEW = 'RENEW',
    SPACE = 'SPACE',
    MOVED = 'MOVED',
    MANIFESTS = 'MANIFESTS'
  }

  enum __TypeValues {
    PUT = 0,
    GET = 1,
    HAS = 2,
    DELETE = 3,
    RENEW = 4,
    SPACE = 5,
    MOVED = 6,
    MANIFESTS = 7
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<Request>

  export const codec = (): Codec<Request> => {
    if (_codec == null) {
      _codec = message<Request>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          Request.Type.codec().encode(obj.type, w)
        }

        if (obj.cids != null && obj.cids.length > 0) {
          for (const value of obj.cids) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.data)
        }

        if (obj.owner != null) {
          w.uint32(34)
          w.bytes(obj.owner)
        }

        if (obj.holder != null) {
          w.uint32(42)
          w.bytes(obj.holder)
        }

        if (obj.group != null) {
          w.uint32(50)
          w.bytes(obj.group)
        }

        if (obj.manifest != null) {
          w.uint32(56)
          w.bool(obj.manifest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.PUT,
          cids: [],
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = Request.Type.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.cids != null && obj.cids.length === opts.limits.cids) {
                throw new MaxLengthError('Decode error - repeated field "cids" had too many elements')
              }

              obj.cids.push(reader.bytes())
              break
            }
            case 3: {
              obj.data = reader.bytes()
              break
            }
            case 4: {
              obj.owner = reader.bytes()
              break
            }
            case 5: {
              obj.holder = reader.bytes()
              break
            }
            case 6: {
              obj.group = reader.bytes()
              break
            }
            case 7: {
              obj.manifest = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          cids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: Request.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.cids != null && obj.cids === opts.limits.cids) {
                throw new MaxLengthError('Streaming decode error - repeated field "cids" had too many elements')
              }

              yield {
                field: `${prefix}.cids[]`,
                index: obj.cids,
                value: reader.bytes()
              }

              obj.cids++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.owner`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.holder`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.group`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.manifest`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RequestTypeFieldEvent {
    field: '$.type'
    value: Request.Type
  }

  export interface RequestCidsFieldEvent {
    field: '$.cids[]'
    index: number
    value: Uint8Array
  }

  export interface RequestDataFieldEvent {
    field: '$.data'
    value: Uint8Array
  }

  export interface RequestOwnerFieldEvent {
    field: '$.owner'
    value: Uint8Array
  }

  export interface RequestHolderFieldEvent {
    field: '$.holder'
    value: Uint8Array
  }

  export interface RequestGroupFieldEvent {
    field: '$.group'
    value: Uint8Array
  }

  export interface RequestManifestFieldEvent {
    field: '$.manifest'
    value: boolean
  }

  export function encode (obj: Partial<Request>): Uint8Array {
    return encodeMessage(obj, Request.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Request {
    return decodeMessage(buf, Request.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Generator<RequestTypeFieldEvent | RequestCidsFieldEvent | RequestDataFieldEvent | RequestOwnerFieldEvent | RequestHolderFieldEvent | RequestGroupFieldEvent | RequestManifestFieldEvent> {
    return streamMessage(buf, Request.codec(), opts)
  }
}

export interface Response {
  status: Response.Status
  data: Uint8Array
  have: boolean[]
  message: string
  free?: bigint
  cids: Uint8Array[]
}

export namespace Response {
  export enum Status {
    OK = 'OK',
    NOT_FOUND = 'NOT_FOUND',
    NO_SPACE = 'NO_SPACE',
    BAD_HASH = 'BAD_HASH',
    ERROR = 'ERROR',
    FORBIDDEN = 'FORBIDDEN',
    TOO_LARGE = 'TOO_LARGE'
  }

  enum __StatusValues {
    OK = 0,
    NOT_FOUND = 1,
    NO_SPACE = 2,
    BAD_HASH = 3,
    ERROR = 4,
    FORBIDDEN = 5,
    TOO_LARGE = 6
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<Response>

  export const codec = (): Codec<Response> => {
    if (_codec == null) {
      _codec = message<Response>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          Response.Status.codec().encode(obj.status, w)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if (obj.have != null && obj.have.length > 0) {
          for (const value of obj.have) {
            w.uint32(24)
            w.bool(value)
          }
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(34)
          w.string(obj.message)
        }

        if (obj.free != null) {
          w.uint32(40)
          w.uint64(obj.free)
        }

        if (obj.cids != null && obj.cids.length > 0) {
          for (const value of obj.cids) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          data: uint8ArrayAlloc(0),
          have: [],
          message: '',
          cids: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = Response.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.data = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.have != null && obj.have.length === opts.limits.have) {
                throw new MaxLengthError('Decode error - repeated field "have" had too many elements')
              }

              obj.have.push(reader.bool())
              break
            }
            case 4: {
              obj.message = reader.string()
              break
            }
            case 5: {
              obj.free = reader.uint64()
              break
            }
            case 6: {
              if (opts.limits?.cids != null && obj.cids.length === opts.limits.cids) {
                throw new MaxLengthError('Decode error - repeated field "cids" had too many elements')
              }

              obj.cids.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          have: 0,
          cids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: Response.Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.have != null && obj.have === opts.limits.have) {
                throw new MaxLengthError('Streaming decode error - repeated field "have" had too many elements')
              }

              yield {
                field: `${prefix}.have[]`,
                index: obj.have,
                value: reader.bool()
              }

              obj.have++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.free`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              if (opts.limits?.cids != null && obj.cids === opts.limits.cids) {
                throw new MaxLengthError('Streaming decode error - repeated field "cids" had too many elements')
              }

              yield {
                field: `${prefix}.cids[]`,
                index: obj.cids,
                value: reader.bytes()
              }

              obj.cids++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ResponseStatusFieldEvent {
    field: '$.status'
    value: Response.Status
  }

  export interface ResponseDataFieldEvent {
    field: '$.data'
    value: Uint8Array
  }

  export interface ResponseHaveFieldEvent {
    field: '$.have[]'
    index: number
    value: boolean
  }

  export interface ResponseMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface ResponseFreeFieldEvent {
    field: '$.free'
    value: bigint
  }

  export interface ResponseCidsFieldEvent {
    field: '$.cids[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<Response>): Uint8Array {
    return encodeMessage(obj, Response.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Response {
    return decodeMessage(buf, Response.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Generator<ResponseStatusFieldEvent | ResponseDataFieldEvent | ResponseHaveFieldEvent | ResponseMessageFieldEvent | ResponseFreeFieldEvent | ResponseCidsFieldEvent> {
    return streamMessage(buf, Response.codec(), opts)
  }
}
