/** JSON values as events and snapshots carry them: conversion from stored values, deep equality. */
import * as Y from 'yjs'

/** A JSON value as events carry it. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** One standing value of a field, as JSON: its value, who wrote it and its clock stamp. */
export interface StandingValueJson {
  readonly value: JsonValue
  readonly author: string
  readonly stamp: string
}

/**
 * Converts a stored value to JSON: Yjs types become their JSON (a `Y.Text` its string),
 * `undefined` and non-finite numbers become `null`, binary becomes an array of bytes, and
 * anything else that is not JSON (a function, a sub-document) becomes `null`.
 */
export const toJsonValue = (value: unknown): JsonValue => {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (value instanceof Y.Text) return value.toString()
  if (value instanceof Y.AbstractType) return toJsonValue(value.toJSON())
  if (value instanceof Uint8Array) return Array.from(value)
  if (Array.isArray(value)) return value.map(toJsonValue)
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    // fromEntries keeps a "__proto__" key an own property instead of setting the prototype.
    return Object.fromEntries(
      Object.entries(value).map(([key, each]) => [key, toJsonValue(each)] as const),
    )
  }
  return null
}

/** Whether two JSON values are equal (objects compared key by key, in any order). */
export const jsonEquals = (a: JsonValue, b: JsonValue): boolean => {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((each, index) => jsonEquals(each, b[index] as JsonValue))
  }
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every(
    (key) => Object.hasOwn(b, key) && jsonEquals(a[key] as JsonValue, b[key] as JsonValue),
  )
}
