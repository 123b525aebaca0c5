/** docToJson: a document without a schema as plain JSON, one property per root type. */
import * as Y from 'yjs'
import { kindOf } from './root-kind.js'

/**
 * Each root type by name: text as a string, arrays and maps as JSON, XML as its markup. Root
 * types that hold nothing are left out.
 */
export const docToJson = (doc: Y.Doc): Record<string, unknown> => {
  const json: Record<string, unknown> = {}
  for (const name of [...doc.share.keys()].sort()) {
    const kind = kindOf(doc.share.get(name))
    if (kind === 'text') json[name] = doc.getText(name).toString()
    else if (kind === 'array') json[name] = doc.getArray(name).toJSON()
    else if (kind === 'map') json[name] = doc.getMap(name).toJSON()
    else if (kind === 'xml') json[name] = doc.getXmlFragment(name).toString()
  }
  return json
}
