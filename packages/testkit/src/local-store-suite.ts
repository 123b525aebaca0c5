/** The LocalStore conformance suites, as `@weft/client/conformance` publishes them. */
export {
  runLocalStoreSuite,
  runSharedLocalStoreSuite,
  type LocalStoreFixture,
  type SharedLocalStoreFixture,
} from '@weft/client/conformance'
