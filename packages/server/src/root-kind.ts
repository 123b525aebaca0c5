/** kindOf: what a root type of a document holds, even when no code has read it by type yet. */
import * as Y from 'yjs'

/** The kinds of root types Weft reads and rewrites. */
export type RootKind = 'text' | 'array' | 'map' | 'xml'

/** What a root type holds, from its class or, for one never read by type, from its items. */
export const kindOf = (type: Y.AbstractType<Y.YEvent<any>> | undefined): RootKind | null => {
  if (type === undefined) return null
  if (type instanceof Y.XmlFragment) return 'xml'
  if (type instanceof Y.Text) return 'text'
  if (type instanceof Y.Array) return 'array'
  if (type instanceof Y.Map) return 'map'
  if (type._map.size > 0) return 'map'
  for (let item = type._start; item !== null; item = item.right) {
    const { content } = item
    if (content instanceof Y.ContentString || content instanceof Y.ContentFormat) return 'text'
    if (content instanceof Y.ContentEmbed) return 'text'
    if (content instanceof Y.ContentType && content.type instanceof Y.XmlElement) return 'xml'
    if (!(content instanceof Y.ContentDeleted)) return 'array'
  }
  return null
}
