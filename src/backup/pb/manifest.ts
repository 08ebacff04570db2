import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Manifest {
  version: number
  name: string
  size: bigint
  mode: number
  mtime: bigint
  replicas: number
  chunkSize: number
  chunks: ChunkRef[]
  created: bigint
}

export namespace Manifest {
  let _codec: Codec<Manifest>

  export const codec = (): Codec<Manifest> => {
    if (_codec == null) {
      _codec = message<Manifest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(24)
          w.uint64(obj.size)
        }

        if ((obj.mode != null && obj.mode !== 0)) {
          w.uint32(32)
          w.uint32(obj.mode)
        }

        if ((obj.mtime != null && obj.mtime !== 0n)) {
          w.uint32(40)
          w.uint64(obj.mtime)
        }

        if ((obj.replicas != null && obj.replicas !== 0)) {
          w.uint32(48)
          w.uint32(obj.replicas)
        }

        if ((obj.chunkSize != null && obj.chunkSize !== 0)) {
          w.uint32(56)
          w.uint32(obj.chunkSize)
        }

        if (obj.chunks != null && obj.chunks.length > 0) {
          for (const value of obj.chunks) {
            w.uint32(66)
            ChunkRef.codec().encode(value, w)
          }
        }

        if ((obj.created != null && obj.created !== 0n)) {
          w.uint32(72)
          w.uint64(obj.created)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          name: '',
          size: 0n,
          mode: 0,
          mtime: 0n,
          replicas: 0,
          chunkSize: 0,
          chunks: [],
          created: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.size = reader.uint64()
              break
            }
            case 4: {
              obj.mode = reader.uint32()
              break
            }
            case 5: {
              obj.mtime = reader.uint64()
              break
            }
            case 6: {
              obj.replicas = reader.uint32()
              break
            }
            case 7: {
              obj.chunkSize = reader.uint32()
              break
            }
            case 8: {
              if (opts.limits?.chunks != null && obj.chunks.length === opts.limits.chunks) {
                throw new MaxLengthError('Decode error - repeated field "chunks" had too many elements')
              }

              obj.chunks.push(ChunkRef.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.chunks$
              }))
              break
            }
            case 9: {
              obj.created = reader.uint64()
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
          chunks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.mode`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.mtime`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.replicas`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.chunkSize`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              if (opts.limits?.chunks != null && obj.chunks === opts.limits.chunks) {
                throw new MaxLengthError('Streaming decode error - repeated field "chunks" had too many elements')
              }

              for (const evt of ChunkRef.codec().stream(reader, reader.uint32(), `${prefix}.chunks[]`, {
                limits: opts.limits?.chunks$
              })) {
                yield {
                  ...evt,
                  index: obj.chunks
                }
              }

              obj.chunks++

              break
            }
            case 9: {
              yield {
                field: `${prefix}.created`,
                value: reader.uint64()
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

  export interface ManifestVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ManifestNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface ManifestSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface ManifestModeFieldEvent {
    field: '$.mode'
    value: number
  }

  export interface ManifestMtimeFieldEvent {
    field: '$.mtime'
    value: bigint
  }

  export interface ManifestReplicasFieldEvent {
    field: '$.replicas'
    value: number
  }

  export interface ManifestChunkSizeFieldEvent {
    field: '$.chunkSize'
    value: number
  }

  export interface ManifestChunksCidFieldEvent {
    field: '$.chunks[].cid'
    value: Uint8Array
    index: number
  }

  export interface ManifestChunksSizeFieldEvent {
    field: '$.chunks[].size'
    value: number
    index: number
  }

  export interface ManifestCreatedFieldEvent {
    field: '$.created'
    value: bigint
  }

  export function encode (obj: Partial<Manifest>): Uint8Array {
    return encodeMessage(obj, Manifest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Manifest>): Manifest {
    return decodeMessage(buf, Manifest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Manifest>): Generator<ManifestVersionFieldEvent | ManifestNameFieldEvent | ManifestSizeFieldEvent | ManifestModeFieldEvent | ManifestMtimeFieldEvent | ManifestReplicasFieldEvent | ManifestChunkSizeFieldEvent | ManifestChunksCidFieldEvent | ManifestChunksSizeFieldEvent | ManifestCreatedFieldEvent> {
    return streamMessage(buf, Manifest.codec(), opts)
  }
}

export interface ChunkRef {
  cid: Uint8Array
  size: number
}

export namespace ChunkRef {
  let _codec: Codec<ChunkRef>

  export const codec = (): Codec<ChunkRef> => {
    if (_codec == null) {
      _codec = message<ChunkRef>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.cid)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint32(obj.size)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cid: uint8ArrayAlloc(0),
          size: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cid = reader.bytes()
              break
            }
            case 2: {
              obj.size = reader.uint32()
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
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint32()
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

  export interface ChunkRefCidFieldEvent {
    field: '$.cid'
    value: Uint8Array
  }

  export interface ChunkRefSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export function encode (obj: Partial<ChunkRef>): Uint8Array {
    return encodeMessage(obj, ChunkRef.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunkRef>): ChunkRef {
    return decodeMessage(buf, ChunkRef.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunkRef>): Generator<ChunkRefCidFieldEvent | ChunkRefSizeFieldEvent> {
    return streamMessage(buf, ChunkRef.codec(), opts)
  }
}
