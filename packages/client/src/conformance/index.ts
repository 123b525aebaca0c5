/**
 * @weft/client/conformance: the suites every LocalStore implementation must pass, for Vitest.
 * Call one from a test file of your store: `runLocalStoreSuite('MyStore', makeFixture, { durable })`.
 */
export { runLocalStoreSuite, type LocalStoreFixture } from './local-store-suite.js'
export {
  runSharedLocalStoreSuite,
  type SharedLocalStoreFixture,
} from './shared-local-store-suite.js'
