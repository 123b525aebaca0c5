/**
 * Reading `--schemas-file` and `--webhooks-file`: JSON files checked whole before the relay
 * starts, with messages naming the file and the entry (never a secret).
 */
import { readFile } from 'node:fs/promises'
import { schemaFromJson } from '@weft/doc'
import { parseRecordRules, type DocSchema } from '@weft/server'
import type { WebhookEndpointOptions } from '@weft/server/webhooks'
import { z } from 'zod'

const readJson = async (option: string, file: string): Promise<unknown> => {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new Error(`--${option} ${file} cannot be read`, { cause })
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    // No cause: a JSON syntax error quotes the text around it, which may hold a secret.
    throw new Error(`--${option} ${file} is not valid JSON`)
  }
}

const schemasFile = z.strictObject({
  schemas: z.array(
    z.strictObject({
      pattern: z.string().min(1),
      schema: z.unknown(),
      rules: z.unknown().optional(),
    }),
  ),
})

/**
 * Reads `--schemas-file`: `{ "schemas": [{ "pattern", "schema", "rules"? }] }`, each schema as
 * JSON, each entry's record rules checked against its schema.
 */
export const readSchemasFile = async (file: string): Promise<DocSchema[]> => {
  const parsed = schemasFile.safeParse(await readJson('schemas-file', file))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new Error(
      `--schemas-file ${file}: ${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'invalid'}; ` +
        'expected { "schemas": [{ "pattern": "boards/*", "schema": { "version": 1, "collections": { … } } }] }',
    )
  }
  return parsed.data.schemas.map(({ pattern, schema, rules }, index) => {
    try {
      const parsedSchema = schemaFromJson(schema, `schemas[${index}].schema`)
      if (rules === undefined) return { pattern, schema: parsedSchema }
      const where = `schemas[${index}].rules`
      return { pattern, schema: parsedSchema, rules: parseRecordRules(rules, parsedSchema, where) }
    } catch (error) {
      throw new Error(`--schemas-file ${file}: ${(error as Error).message}`)
    }
  })
}

const webhooksFile = z.strictObject({ endpoints: z.array(z.record(z.string(), z.unknown())) })

/**
 * Reads `--webhooks-file`: `{ "endpoints": [WebhookEndpointOptions…] }`. The endpoints'
 * options are checked by the dispatcher, with messages that never include a secret.
 */
export const readWebhooksFile = async (file: string): Promise<WebhookEndpointOptions[]> => {
  const parsed = webhooksFile.safeParse(await readJson('webhooks-file', file))
  if (!parsed.success) {
    throw new Error(
      `--webhooks-file ${file}: expected { "endpoints": [{ "id", "url", "secrets": […], "docs"?: […] }] }`,
    )
  }
  return parsed.data.endpoints as unknown as WebhookEndpointOptions[]
}
