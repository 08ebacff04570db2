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
  pieces: number[]
  claim?: Uint8Array
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
    MANIFESTS = 'MANIFESTS',
    AUDIT = 'AUDIT'
  }

  enum __TypeValues {
    PUT = 0,
    GET = 1,
    HAS = 2,
    DELETE = 3,
    RENEW = 4,
    SPACE = 5,
    MOVED = 6,
    MANIFESTS = 7,
    AUDIT = 8
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

        if (obj.pieces != null && obj.pieces.length > 0) {
          for (const value of obj.pieces) {
            w.uint32(64)
            w.uint32(value)
          }
        }

        if (obj.claim != null) {
          w.uint32(74)
          w.bytes(obj.claim)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.PUT,
          cids: [],
          data: uint8ArrayAlloc(0),
          pieces: []
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
            case 8: {
              if (opts.limits?.pieces != null && obj.pieces.length === opts.limits.pieces) {
                throw new MaxLengthError('Decode error - repeated field "pieces" had too many elements')
              }

              obj.pieces.push(reader.uint32())
              break
            }
            case 9: {
              obj.claim = reader.bytes()
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
          cids: 0,
          pieces: 0
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
            case 8: {
              if (opts.limits?.pieces != null && obj.pieces === opts.limits.pieces) {
                throw new MaxLengthError('Streaming decode error - repeated field "pieces" had too many elements')
              }

              yield {
                field: `${prefix}.pieces[]`,
                index: obj.pieces,
                value: reader.uint32()
              }

              obj.pieces++

              break
            }
            case 9: {
              yield {
                field: `${prefix}.claim`,
                value: reader.bytes()
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

  export interface RequestPiecesFieldEvent {
    field: '$.pieces[]'
    index: number
    value: number
  }

  export interface RequestClaimFieldEvent {
    field: '$.claim'
    value: Uint8Array
  }

  export function encode (obj: Partial<Request>): Uint8Array {
    return encodeMessage(obj, Request.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Request {
    return decodeMessage(buf, Request.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Generator<RequestTypeFieldEvent | RequestCidsFieldEvent | RequestDataFieldEvent | RequestOwnerFieldEvent | RequestHolderFieldEvent | RequestGroupFieldEvent | RequestManifestFieldEvent | RequestPiecesFieldEvent | RequestClaimFieldEvent> {
    return streamMessage(buf, Request.codec(), opts)
  }
}

export interface AuditProof {
  piece: Uint8Array
  path: Uint8Array[]
}

export namespace AuditProof {
  let _codec: Codec<AuditProof>

  export const codec = (): Codec<AuditProof> => {
    if (_codec == null) {
      _codec = message<AuditProof>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.piece != null && obj.piece.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.piece)
        }

        if (obj.path != null && obj.path.length > 0) {
          for (const value of obj.path) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          piece: uint8ArrayAlloc(0),
          path: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.piece = reader.bytes()
              break
            }
            case 2: {
              if (opts.limits?.path != null && obj.path.length === opts.limits.path) {
                throw new MaxLengthError('Decode error - repeated field "path" had too many elements')
              }

              obj.path.push(reader.bytes())
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
          path: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.piece`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              if (opts.limits?.path != null && obj.path === opts.limits.path) {
                throw new MaxLengthError('Streaming decode error - repeated field "path" had too many elements')
              }

              yield {
                field: `${prefix}.path[]`,
                index: obj.path,
                value: reader.bytes()
              }

              obj.path++

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

  export interface AuditProofPieceFieldEvent {
    field: '$.piece'
    value: Uint8Array
  }

  export interface AuditProofPathFieldEvent {
    field: '$.path[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<AuditProof>): Uint8Array {
    return encodeMessage(obj, AuditProof.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AuditProof>): AuditProof {
    return decodeMessage(buf, AuditProof.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AuditProof>): Generator<AuditProofPieceFieldEvent | AuditProofPathFieldEvent> {
    return streamMessage(buf, AuditProof.codec(), opts)
  }
}

export interface Response {
  status: Response.Status
  data: Uint8Array
  have: boolean[]
  message: string
  free?: bigint
  cids: Uint8Array[]
  proofs: AuditProof[]
}

export namespace Response {
  export enum Status {
    OK = 'OK',
    NOT_FOUND = 'NOT_FOUND',
    NO_SPACE = 'NO_SPACE',
    BAD_HASH = 'BAD_HASH',
    ERROR = 'ERROR',
    FORBIDDEN = 'FORBIDDEN',
    TOO_LARGE = 'TOO_LARGE',
    BUSY = 'BUSY'
  }

  enum __StatusValues {
    OK = 0,
    NOT_FOUND = 1,
    NO_SPACE = 2,
    BAD_HASH = 3,
    ERROR = 4,
    FORBIDDEN = 5,
    TOO_LARGE = 6,
    BUSY = 7
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

        if (obj.proofs != null && obj.proofs.length > 0) {
          for (const value of obj.proofs) {
            w.uint32(58)
            AuditProof.codec().encode(value, w)
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
          cids: [],
          proofs: []
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
            case 7: {
              if (opts.limits?.proofs != null && obj.proofs.length === opts.limits.proofs) {
                throw new MaxLengthError('Decode error - repeated field "proofs" had too many elements')
              }

              obj.proofs.push(AuditProof.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.proofs$
              }))
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
          cids: 0,
          proofs: 0
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
            case 7: {
              if (opts.limits?.proofs != null && obj.proofs === opts.limits.proofs) {
                throw new MaxLengthError('Streaming decode error - repeated field "proofs" had too many elements')
              }

              for (const evt of AuditProof.codec().stream(reader, reader.uint32(), `${prefix}.proofs[]`, {
                limits: opts.limits?.proofs$
              })) {
                yield {
                  ...evt,
                  index: obj.proofs
                }
              }

              obj.proofs++

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

  export interface ResponseProofsPieceFieldEvent {
    field: '$.proofs[].piece'
    value: Uint8Array
    index: number
  }

  export interface ResponseProofsPathFieldEvent {
    field: '$.proofs[].path[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<Response>): Uint8Array {
    return encodeMessage(obj, Response.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Response {
    return decodeMessage(buf, Response.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Generator<ResponseStatusFieldEvent | ResponseDataFieldEvent | ResponseHaveFieldEvent | ResponseMessageFieldEvent | ResponseFreeFieldEvent | ResponseCidsFieldEvent | ResponseProofsPieceFieldEvent | ResponseProofsPathFieldEvent> {
    return streamMessage(buf, Response.codec(), opts)
  }
}
