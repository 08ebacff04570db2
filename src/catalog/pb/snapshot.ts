import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface BlobRef {
  id: Uint8Array
  pack: Uint8Array
  offset: number
  length: number
  plainLength: number
  compressed: boolean
}

export namespace BlobRef {
  let _codec: Codec<BlobRef>

  export const codec = (): Codec<BlobRef> => {
    if (_codec == null) {
      _codec = message<BlobRef>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.id)
        }

        if ((obj.pack != null && obj.pack.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.pack)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(24)
          w.uint32(obj.offset)
        }

        if ((obj.length != null && obj.length !== 0)) {
          w.uint32(32)
          w.uint32(obj.length)
        }

        if ((obj.plainLength != null && obj.plainLength !== 0)) {
          w.uint32(40)
          w.uint32(obj.plainLength)
        }

        if ((obj.compressed != null && obj.compressed !== false)) {
          w.uint32(48)
          w.bool(obj.compressed)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: uint8ArrayAlloc(0),
          pack: uint8ArrayAlloc(0),
          offset: 0,
          length: 0,
          plainLength: 0,
          compressed: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.bytes()
              break
            }
            case 2: {
              obj.pack = reader.bytes()
              break
            }
            case 3: {
              obj.offset = reader.uint32()
              break
            }
            case 4: {
              obj.length = reader.uint32()
              break
            }
            case 5: {
              obj.plainLength = reader.uint32()
              break
            }
            case 6: {
              obj.compressed = reader.bool()
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
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.pack`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.length`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.plainLength`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.compressed`,
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

  export interface BlobRefIdFieldEvent {
    field: '$.id'
    value: Uint8Array
  }

  export interface BlobRefPackFieldEvent {
    field: '$.pack'
    value: Uint8Array
  }

  export interface BlobRefOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export interface BlobRefLengthFieldEvent {
    field: '$.length'
    value: number
  }

  export interface BlobRefPlainLengthFieldEvent {
    field: '$.plainLength'
    value: number
  }

  export interface BlobRefCompressedFieldEvent {
    field: '$.compressed'
    value: boolean
  }

  export function encode (obj: Partial<BlobRef>): Uint8Array {
    return encodeMessage(obj, BlobRef.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobRef>): BlobRef {
    return decodeMessage(buf, BlobRef.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BlobRef>): Generator<BlobRefIdFieldEvent | BlobRefPackFieldEvent | BlobRefOffsetFieldEvent | BlobRefLengthFieldEvent | BlobRefPlainLengthFieldEvent | BlobRefCompressedFieldEvent> {
    return streamMessage(buf, BlobRef.codec(), opts)
  }
}

export interface Node {
  name: string
  type: Node.Type
  mode: number
  mtimeNs: bigint
  ctimeNs: bigint
  inode: bigint
  size: bigint
  uid: number
  gid: number
  target: string
  content: BlobRef[]
  subtree: Uint8Array[]
}

export namespace Node {
  export enum Type {
    FILE = 'FILE',
    DIR = 'DIR',
    SYMLINK = 'SYMLINK'
  }

  enum __TypeValues {
    FILE = 0,
    DIR = 1,
    SYMLINK = 2
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<Node>

  export const codec = (): Codec<Node> => {
    if (_codec == null) {
      _codec = message<Node>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(16)
          Node.Type.codec().encode(obj.type, w)
        }

        if ((obj.mode != null && obj.mode !== 0)) {
          w.uint32(24)
          w.uint32(obj.mode)
        }

        if ((obj.mtimeNs != null && obj.mtimeNs !== 0n)) {
          w.uint32(32)
          w.int64(obj.mtimeNs)
        }

        if ((obj.ctimeNs != null && obj.ctimeNs !== 0n)) {
          w.uint32(40)
          w.int64(obj.ctimeNs)
        }

        if ((obj.inode != null && obj.inode !== 0n)) {
          w.uint32(48)
          w.uint64(obj.inode)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(56)
          w.uint64(obj.size)
        }

        if ((obj.uid != null && obj.uid !== 0)) {
          w.uint32(64)
          w.uint32(obj.uid)
        }

        if ((obj.gid != null && obj.gid !== 0)) {
          w.uint32(72)
          w.uint32(obj.gid)
        }

        if ((obj.target != null && obj.target !== '')) {
          w.uint32(82)
          w.string(obj.target)
        }

        if (obj.content != null && obj.content.length > 0) {
          for (const value of obj.content) {
            w.uint32(90)
            BlobRef.codec().encode(value, w)
          }
        }

        if (obj.subtree != null && obj.subtree.length > 0) {
          for (const value of obj.subtree) {
            w.uint32(98)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          type: Type.FILE,
          mode: 0,
          mtimeNs: 0n,
          ctimeNs: 0n,
          inode: 0n,
          size: 0n,
          uid: 0,
          gid: 0,
          target: '',
          content: [],
          subtree: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.type = Node.Type.codec().decode(reader)
              break
            }
            case 3: {
              obj.mode = reader.uint32()
              break
            }
            case 4: {
              obj.mtimeNs = reader.int64()
              break
            }
            case 5: {
              obj.ctimeNs = reader.int64()
              break
            }
            case 6: {
              obj.inode = reader.uint64()
              break
            }
            case 7: {
              obj.size = reader.uint64()
              break
            }
            case 8: {
              obj.uid = reader.uint32()
              break
            }
            case 9: {
              obj.gid = reader.uint32()
              break
            }
            case 10: {
              obj.target = reader.string()
              break
            }
            case 11: {
              if (opts.limits?.content != null && obj.content.length === opts.limits.content) {
                throw new MaxLengthError('Decode error - repeated field "content" had too many elements')
              }

              obj.content.push(BlobRef.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.content$
              }))
              break
            }
            case 12: {
              if (opts.limits?.subtree != null && obj.subtree.length === opts.limits.subtree) {
                throw new MaxLengthError('Decode error - repeated field "subtree" had too many elements')
              }

              obj.subtree.push(reader.bytes())
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
          content: 0,
          subtree: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.type`,
                value: Node.Type.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.mode`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.mtimeNs`,
                value: reader.int64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.ctimeNs`,
                value: reader.int64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.inode`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.uid`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.gid`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.target`,
                value: reader.string()
              }
              break
            }
            case 11: {
              if (opts.limits?.content != null && obj.content === opts.limits.content) {
                throw new MaxLengthError('Streaming decode error - repeated field "content" had too many elements')
              }

              for (const evt of BlobRef.codec().stream(reader, reader.uint32(), `${prefix}.content[]`, {
                limits: opts.limits?.content$
              })) {
                yield {
                  ...evt,
                  index: obj.content
                }
              }

              obj.content++

              break
            }
            case 12: {
              if (opts.limits?.subtree != null && obj.subtree === opts.limits.subtree) {
                throw new MaxLengthError('Streaming decode error - repeated field "subtree" had too many elements')
              }

              yield {
                field: `${prefix}.subtree[]`,
                index: obj.subtree,
                value: reader.bytes()
              }

              obj.subtree++

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

  export interface NodeNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface NodeTypeFieldEvent {
    field: '$.type'
    value: Node.Type
  }

  export interface NodeModeFieldEvent {
    field: '$.mode'
    value: number
  }

  export interface NodeMtimeNsFieldEvent {
    field: '$.mtimeNs'
    value: bigint
  }

  export interface NodeCtimeNsFieldEvent {
    field: '$.ctimeNs'
    value: bigint
  }

  export interface NodeInodeFieldEvent {
    field: '$.inode'
    value: bigint
  }

  export interface NodeSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface NodeUidFieldEvent {
    field: '$.uid'
    value: number
  }

  export interface NodeGidFieldEvent {
    field: '$.gid'
    value: number
  }

  export interface NodeTargetFieldEvent {
    field: '$.target'
    value: string
  }

  export interface NodeContentIdFieldEvent {
    field: '$.content[].id'
    value: Uint8Array
    index: number
  }

  export interface NodeContentPackFieldEvent {
    field: '$.content[].pack'
    value: Uint8Array
    index: number
  }

  export interface NodeContentOffsetFieldEvent {
    field: '$.content[].offset'
    value: number
    index: number
  }

  export interface NodeContentLengthFieldEvent {
    field: '$.content[].length'
    value: number
    index: number
  }

  export interface NodeContentPlainLengthFieldEvent {
    field: '$.content[].plainLength'
    value: number
    index: number
  }

  export interface NodeContentCompressedFieldEvent {
    field: '$.content[].compressed'
    value: boolean
    index: number
  }

  export interface NodeSubtreeFieldEvent {
    field: '$.subtree[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<Node>): Uint8Array {
    return encodeMessage(obj, Node.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Node>): Node {
    return decodeMessage(buf, Node.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Node>): Generator<NodeNameFieldEvent | NodeTypeFieldEvent | NodeModeFieldEvent | NodeMtimeNsFieldEvent | NodeCtimeNsFieldEvent | NodeInodeFieldEvent | NodeSizeFieldEvent | NodeUidFieldEvent | NodeGidFieldEvent | NodeTargetFieldEvent | NodeContentIdFieldEvent | NodeContentPackFieldEvent | NodeContentOffsetFieldEvent | NodeContentLengthFieldEvent | NodeContentPlainLengthFieldEvent | NodeContentCompressedFieldEvent | NodeSubtreeFieldEvent> {
    return streamMessage(buf, Node.codec(), opts)
  }
}

export interface Tree {
  nodes: Node[]
}

export namespace Tree {
  let _codec: Codec<Tree>

  export const codec = (): Codec<Tree> => {
    if (_codec == null) {
      _codec = message<Tree>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.nodes != null && obj.nodes.length > 0) {
          for (const value of obj.nodes) {
            w.uint32(10)
            Node.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nodes: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.nodes != null && obj.nodes.length === opts.limits.nodes) {
                throw new MaxLengthError('Decode error - repeated field "nodes" had too many elements')
              }

              obj.nodes.push(Node.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.nodes$
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
          nodes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.nodes != null && obj.nodes === opts.limits.nodes) {
                throw new MaxLengthError('Streaming decode error - repeated field "nodes" had too many elements')
              }

              for (const evt of Node.codec().stream(reader, reader.uint32(), `${prefix}.nodes[]`, {
                limits: opts.limits?.nodes$
              })) {
                yield {
                  ...evt,
                  index: obj.nodes
                }
              }

              obj.nodes++

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

  export interface TreeNodesNameFieldEvent {
    field: '$.nodes[].name'
    value: string
    index: number
  }

  export interface TreeNodesTypeFieldEvent {
    field: '$.nodes[].type'
    value: Node.Type
    index: number
  }

  export interface TreeNodesModeFieldEvent {
    field: '$.nodes[].mode'
    value: number
    index: number
  }

  export interface TreeNodesMtimeNsFieldEvent {
    field: '$.nodes[].mtimeNs'
    value: bigint
    index: number
  }

  export interface TreeNodesCtimeNsFieldEvent {
    field: '$.nodes[].ctimeNs'
    value: bigint
    index: number
  }

  export interface TreeNodesInodeFieldEvent {
    field: '$.nodes[].inode'
    value: bigint
    index: number
  }

  export interface TreeNodesSizeFieldEvent {
    field: '$.nodes[].size'
    value: bigint
    index: number
  }

  export interface TreeNodesUidFieldEvent {
    field: '$.nodes[].uid'
    value: number
    index: number
  }

  export interface TreeNodesGidFieldEvent {
    field: '$.nodes[].gid'
    value: number
    index: number
  }

  export interface TreeNodesTargetFieldEvent {
    field: '$.nodes[].target'
    value: string
    index: number
  }

  export interface TreeNodesContentIdFieldEvent {
    field: '$.nodes[].content[].id'
    value: Uint8Array
    index: number
  }

  export interface TreeNodesContentPackFieldEvent {
    field: '$.nodes[].content[].pack'
    value: Uint8Array
    index: number
  }

  export interface TreeNodesContentOffsetFieldEvent {
    field: '$.nodes[].content[].offset'
    value: number
    index: number
  }

  export interface TreeNodesContentLengthFieldEvent {
    field: '$.nodes[].content[].length'
    value: number
    index: number
  }

  export interface TreeNodesContentPlainLengthFieldEvent {
    field: '$.nodes[].content[].plainLength'
    value: number
    index: number
  }

  export interface TreeNodesContentCompressedFieldEvent {
    field: '$.nodes[].content[].compressed'
    value: boolean
    index: number
  }

  export interface TreeNodesSubtreeFieldEvent {
    field: '$.nodes[].subtree[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<Tree>): Uint8Array {
    return encodeMessage(obj, Tree.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tree>): Tree {
    return decodeMessage(buf, Tree.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tree>): Generator<TreeNodesNameFieldEvent | TreeNodesTypeFieldEvent | TreeNodesModeFieldEvent | TreeNodesMtimeNsFieldEvent | TreeNodesCtimeNsFieldEvent | TreeNodesInodeFieldEvent | TreeNodesSizeFieldEvent | TreeNodesUidFieldEvent | TreeNodesGidFieldEvent | TreeNodesTargetFieldEvent | TreeNodesContentIdFieldEvent | TreeNodesContentPackFieldEvent | TreeNodesContentOffsetFieldEvent | TreeNodesContentLengthFieldEvent | TreeNodesContentPlainLengthFieldEvent | TreeNodesContentCompressedFieldEvent | TreeNodesSubtreeFieldEvent> {
    return streamMessage(buf, Tree.codec(), opts)
  }
}

export interface TreeIndex {
  packs: TreeIndex.Pack[]
}

export namespace TreeIndex {
  export interface Entry {
    id: Uint8Array
    offset: number
    length: number
    plainLength: number
    compressed: boolean
  }

  export namespace Entry {
    let _codec: Codec<Entry>

    export const codec = (): Codec<Entry> => {
      if (_codec == null) {
        _codec = message<Entry>((obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if ((obj.id != null && obj.id.byteLength > 0)) {
            w.uint32(10)
            w.bytes(obj.id)
          }

          if ((obj.offset != null && obj.offset !== 0)) {
            w.uint32(16)
            w.uint32(obj.offset)
          }

          if ((obj.length != null && obj.length !== 0)) {
            w.uint32(24)
            w.uint32(obj.length)
          }

          if ((obj.plainLength != null && obj.plainLength !== 0)) {
            w.uint32(32)
            w.uint32(obj.plainLength)
          }

          if ((obj.compressed != null && obj.compressed !== false)) {
            w.uint32(40)
            w.bool(obj.compressed)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        }, (reader, length, opts = {}) => {
          const obj: any = {
            id: uint8ArrayAlloc(0),
            offset: 0,
            length: 0,
            plainLength: 0,
            compressed: false
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.id = reader.bytes()
                break
              }
              case 2: {
                obj.offset = reader.uint32()
                break
              }
              case 3: {
                obj.length = reader.uint32()
                break
              }
              case 4: {
                obj.plainLength = reader.uint32()
                break
              }
              case 5: {
                obj.compressed = reader.bool()
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
                  field: `${prefix}.id`,
                  value: reader.bytes()
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.offset`,
                  value: reader.uint32()
                }
                break
              }
              case 3: {
                yield {
                  field: `${prefix}.length`,
                  value: reader.uint32()
                }
                break
              }
              case 4: {
                yield {
                  field: `${prefix}.plainLength`,
                  value: reader.uint32()
                }
                break
              }
              case 5: {
                yield {
                  field: `${prefix}.compressed`,
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

    export interface EntryIdFieldEvent {
      field: '$.id'
      value: Uint8Array
    }

    export interface EntryOffsetFieldEvent {
      field: '$.offset'
      value: number
    }

    export interface EntryLengthFieldEvent {
      field: '$.length'
      value: number
    }

    export interface EntryPlainLengthFieldEvent {
      field: '$.plainLength'
      value: number
    }

    export interface EntryCompressedFieldEvent {
      field: '$.compressed'
      value: boolean
    }

    export function encode (obj: Partial<Entry>): Uint8Array {
      return encodeMessage(obj, Entry.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Entry {
      return decodeMessage(buf, Entry.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Generator<EntryIdFieldEvent | EntryOffsetFieldEvent | EntryLengthFieldEvent | EntryPlainLengthFieldEvent | EntryCompressedFieldEvent> {
      return streamMessage(buf, Entry.codec(), opts)
    }
  }

  export interface Pack {
    cid: Uint8Array
    entries: TreeIndex.Entry[]
  }

  export namespace Pack {
    let _codec: Codec<Pack>

    export const codec = (): Codec<Pack> => {
      if (_codec == null) {
        _codec = message<Pack>((obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if ((obj.cid != null && obj.cid.byteLength > 0)) {
            w.uint32(10)
            w.bytes(obj.cid)
          }

          if (obj.entries != null && obj.entries.length > 0) {
            for (const value of obj.entries) {
              w.uint32(18)
              TreeIndex.Entry.codec().encode(value, w)
            }
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        }, (reader, length, opts = {}) => {
          const obj: any = {
            cid: uint8ArrayAlloc(0),
            entries: []
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
                if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                  throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
                }

                obj.entries.push(TreeIndex.Entry.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.entries$
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
            entries: 0
          }

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
                if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                  throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
                }

                for (const evt of TreeIndex.Entry.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                  limits: opts.limits?.entries$
                })) {
                  yield {
                    ...evt,
                    index: obj.entries
                  }
                }

                obj.entries++

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

    export interface PackCidFieldEvent {
      field: '$.cid'
      value: Uint8Array
    }

    export interface PackEntriesIdFieldEvent {
      field: '$.entries[].id'
      value: Uint8Array
      index: number
    }

    export interface PackEntriesOffsetFieldEvent {
      field: '$.entries[].offset'
      value: number
      index: number
    }

    export interface PackEntriesLengthFieldEvent {
      field: '$.entries[].length'
      value: number
      index: number
    }

    export interface PackEntriesPlainLengthFieldEvent {
      field: '$.entries[].plainLength'
      value: number
      index: number
    }

    export interface PackEntriesCompressedFieldEvent {
      field: '$.entries[].compressed'
      value: boolean
      index: number
    }

    export function encode (obj: Partial<Pack>): Uint8Array {
      return encodeMessage(obj, Pack.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Pack>): Pack {
      return decodeMessage(buf, Pack.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Pack>): Generator<PackCidFieldEvent | PackEntriesIdFieldEvent | PackEntriesOffsetFieldEvent | PackEntriesLengthFieldEvent | PackEntriesPlainLengthFieldEvent | PackEntriesCompressedFieldEvent> {
      return streamMessage(buf, Pack.codec(), opts)
    }
  }

  let _codec: Codec<TreeIndex>

  export const codec = (): Codec<TreeIndex> => {
    if (_codec == null) {
      _codec = message<TreeIndex>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.packs != null && obj.packs.length > 0) {
          for (const value of obj.packs) {
            w.uint32(10)
            TreeIndex.Pack.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          packs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.packs != null && obj.packs.length === opts.limits.packs) {
                throw new MaxLengthError('Decode error - repeated field "packs" had too many elements')
              }

              obj.packs.push(TreeIndex.Pack.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.packs$
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
          packs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.packs != null && obj.packs === opts.limits.packs) {
                throw new MaxLengthError('Streaming decode error - repeated field "packs" had too many elements')
              }

              for (const evt of TreeIndex.Pack.codec().stream(reader, reader.uint32(), `${prefix}.packs[]`, {
                limits: opts.limits?.packs$
              })) {
                yield {
                  ...evt,
                  index: obj.packs
                }
              }

              obj.packs++

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

  export interface TreeIndexPacksCidFieldEvent {
    field: '$.packs[].cid'
    value: Uint8Array
    index: number
  }

  export interface TreeIndexPacksEntriesIdFieldEvent {
    field: '$.packs[].entries[].id'
    value: Uint8Array
    index: number
  }

  export interface TreeIndexPacksEntriesOffsetFieldEvent {
    field: '$.packs[].entries[].offset'
    value: number
    index: number
  }

  export interface TreeIndexPacksEntriesLengthFieldEvent {
    field: '$.packs[].entries[].length'
    value: number
    index: number
  }

  export interface TreeIndexPacksEntriesPlainLengthFieldEvent {
    field: '$.packs[].entries[].plainLength'
    value: number
    index: number
  }

  export interface TreeIndexPacksEntriesCompressedFieldEvent {
    field: '$.packs[].entries[].compressed'
    value: boolean
    index: number
  }

  export function encode (obj: Partial<TreeIndex>): Uint8Array {
    return encodeMessage(obj, TreeIndex.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TreeIndex>): TreeIndex {
    return decodeMessage(buf, TreeIndex.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TreeIndex>): Generator<TreeIndexPacksCidFieldEvent | TreeIndexPacksEntriesIdFieldEvent | TreeIndexPacksEntriesOffsetFieldEvent | TreeIndexPacksEntriesLengthFieldEvent | TreeIndexPacksEntriesPlainLengthFieldEvent | TreeIndexPacksEntriesCompressedFieldEvent> {
    return streamMessage(buf, TreeIndex.codec(), opts)
  }
}

export interface Snapshot {
  created: bigint
  sources: string[]
  tree: Uint8Array[]
  files: bigint
  dirs: bigint
  size: bigint
  replicas: number
  hostname: string
  parent: string
}

export namespace Snapshot {
  let _codec: Codec<Snapshot>

  export const codec = (): Codec<Snapshot> => {
    if (_codec == null) {
      _codec = message<Snapshot>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.created != null && obj.created !== 0n)) {
          w.uint32(8)
          w.uint64(obj.created)
        }

        if (obj.sources != null && obj.sources.length > 0) {
          for (const value of obj.sources) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (obj.tree != null && obj.tree.length > 0) {
          for (const value of obj.tree) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if ((obj.files != null && obj.files !== 0n)) {
          w.uint32(32)
          w.uint64(obj.files)
        }

        if ((obj.dirs != null && obj.dirs !== 0n)) {
          w.uint32(40)
          w.uint64(obj.dirs)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(48)
          w.uint64(obj.size)
        }

        if ((obj.replicas != null && obj.replicas !== 0)) {
          w.uint32(56)
          w.uint32(obj.replicas)
        }

        if ((obj.hostname != null && obj.hostname !== '')) {
          w.uint32(66)
          w.string(obj.hostname)
        }

        if ((obj.parent != null && obj.parent !== '')) {
          w.uint32(74)
          w.string(obj.parent)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          created: 0n,
          sources: [],
          tree: [],
          files: 0n,
          dirs: 0n,
          size: 0n,
          replicas: 0,
          hostname: '',
          parent: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.created = reader.uint64()
              break
            }
            case 2: {
              if (opts.limits?.sources != null && obj.sources.length === opts.limits.sources) {
                throw new MaxLengthError('Decode error - repeated field "sources" had too many elements')
              }

              obj.sources.push(reader.string())
              break
            }
            case 3: {
              if (opts.limits?.tree != null && obj.tree.length === opts.limits.tree) {
                throw new MaxLengthError('Decode error - repeated field "tree" had too many elements')
              }

              obj.tree.push(reader.bytes())
              break
            }
            case 4: {
              obj.files = reader.uint64()
              break
            }
            case 5: {
              obj.dirs = reader.uint64()
              break
            }
            case 6: {
              obj.size = reader.uint64()
              break
            }
            case 7: {
              obj.replicas = reader.uint32()
              break
            }
            case 8: {
              obj.hostname = reader.string()
              break
            }
            case 9: {
              obj.parent = reader.string()
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
          sources: 0,
          tree: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.created`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              if (opts.limits?.sources != null && obj.sources === opts.limits.sources) {
                throw new MaxLengthError('Streaming decode error - repeated field "sources" had too many elements')
              }

              yield {
                field: `${prefix}.sources[]`,
                index: obj.sources,
                value: reader.string()
              }

              obj.sources++

              break
            }
            case 3: {
              if (opts.limits?.tree != null && obj.tree === opts.limits.tree) {
                throw new MaxLengthError('Streaming decode error - repeated field "tree" had too many elements')
              }

              yield {
                field: `${prefix}.tree[]`,
                index: obj.tree,
                value: reader.bytes()
              }

              obj.tree++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.files`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.dirs`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.replicas`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.hostname`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.parent`,
                value: reader.string()
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

  export interface SnapshotCreatedFieldEvent {
    field: '$.created'
    value: bigint
  }

  export interface SnapshotSourcesFieldEvent {
    field: '$.sources[]'
    index: number
    value: string
  }

  export interface SnapshotTreeFieldEvent {
    field: '$.tree[]'
    index: number
    value: Uint8Array
  }

  export interface SnapshotFilesFieldEvent {
    field: '$.files'
    value: bigint
  }

  export interface SnapshotDirsFieldEvent {
    field: '$.dirs'
    value: bigint
  }

  export interface SnapshotSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface SnapshotReplicasFieldEvent {
    field: '$.replicas'
    value: number
  }

  export interface SnapshotHostnameFieldEvent {
    field: '$.hostname'
    value: string
  }

  export interface SnapshotParentFieldEvent {
    field: '$.parent'
    value: string
  }

  export function encode (obj: Partial<Snapshot>): Uint8Array {
    return encodeMessage(obj, Snapshot.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Snapshot>): Snapshot {
    return decodeMessage(buf, Snapshot.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Snapshot>): Generator<SnapshotCreatedFieldEvent | SnapshotSourcesFieldEvent | SnapshotTreeFieldEvent | SnapshotFilesFieldEvent | SnapshotDirsFieldEvent | SnapshotSizeFieldEvent | SnapshotReplicasFieldEvent | SnapshotHostnameFieldEvent | SnapshotParentFieldEvent> {
    return streamMessage(buf, Snapshot.codec(), opts)
  }
}

export interface Manifest {
  version: number
  snapshot?: Snapshot
  index?: TreeIndex
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

        if (obj.snapshot != null) {
          w.uint32(18)
          Snapshot.codec().encode(obj.snapshot, w)
        }

        if (obj.index != null) {
          w.uint32(26)
          TreeIndex.codec().encode(obj.index, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0
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
              obj.snapshot = Snapshot.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snapshot
              })
              break
            }
            case 3: {
              obj.index = TreeIndex.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.index
              })
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
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * Snapshot.codec().stream(reader, reader.uint32(), `${prefix}.snapshot`, {
                limits: opts.limits?.snapshot
              })

              break
            }
            case 3: {
              yield * TreeIndex.codec().stream(reader, reader.uint32(), `${prefix}.index`, {
                limits: opts.limits?.index
              })

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

  export interface ManifestSnapshotCreatedFieldEvent {
    field: '$.snapshot.created'
    value: bigint
  }

  export interface ManifestSnapshotSourcesFieldEvent {
    field: '$.snapshot.sources[]'
    index: number
    value: string
  }

  export interface ManifestSnapshotTreeFieldEvent {
    field: '$.snapshot.tree[]'
    index: number
    value: Uint8Array
  }

  export interface ManifestSnapshotFilesFieldEvent {
    field: '$.snapshot.files'
    value: bigint
  }

  export interface ManifestSnapshotDirsFieldEvent {
    field: '$.snapshot.dirs'
    value: bigint
  }

  export interface ManifestSnapshotSizeFieldEvent {
    field: '$.snapshot.size'
    value: bigint
  }

  export interface ManifestSnapshotReplicasFieldEvent {
    field: '$.snapshot.replicas'
    value: number
  }

  export interface ManifestSnapshotHostnameFieldEvent {
    field: '$.snapshot.hostname'
    value: string
  }

  export interface ManifestSnapshotParentFieldEvent {
    field: '$.snapshot.parent'
    value: string
  }

  export interface ManifestIndexPacksCidFieldEvent {
    field: '$.index.packs[].cid'
    value: Uint8Array
    index: number
  }

  export interface ManifestIndexPacksEntriesIdFieldEvent {
    field: '$.index.packs[].entries[].id'
    value: Uint8Array
    index: number
  }

  export interface ManifestIndexPacksEntriesOffsetFieldEvent {
    field: '$.index.packs[].entries[].offset'
    value: number
    index: number
  }

  export interface ManifestIndexPacksEntriesLengthFieldEvent {
    field: '$.index.packs[].entries[].length'
    value: number
    index: number
  }

  export interface ManifestIndexPacksEntriesPlainLengthFieldEvent {
    field: '$.index.packs[].entries[].plainLength'
    value: number
    index: number
  }

  export interface ManifestIndexPacksEntriesCompressedFieldEvent {
    field: '$.index.packs[].entries[].compressed'
    value: boolean
    index: number
  }

  export function encode (obj: Partial<Manifest>): Uint8Array {
    return encodeMessage(obj, Manifest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Manifest>): Manifest {
    return decodeMessage(buf, Manifest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Manifest>): Generator<ManifestVersionFieldEvent | ManifestSnapshotCreatedFieldEvent | ManifestSnapshotSourcesFieldEvent | ManifestSnapshotTreeFieldEvent | ManifestSnapshotFilesFieldEvent | ManifestSnapshotDirsFieldEvent | ManifestSnapshotSizeFieldEvent | ManifestSnapshotReplicasFieldEvent | ManifestSnapshotHostnameFieldEvent | ManifestSnapshotParentFieldEvent | ManifestIndexPacksCidFieldEvent | ManifestIndexPacksEntriesIdFieldEvent | ManifestIndexPacksEntriesOffsetFieldEvent | ManifestIndexPacksEntriesLengthFieldEvent | ManifestIndexPacksEntriesPlainLengthFieldEvent | ManifestIndexPacksEntriesCompressedFieldEvent> {
    return streamMessage(buf, Manifest.codec(), opts)
  }
}
