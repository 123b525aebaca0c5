/** @weft/testkit: relay harnesses, conformance suites, traces and convergence checks for Weft's tests. */
export { startTestRelay, memoryStore, type TestRelay, type TestRelayOptions } from './test-relay.js'
export { HeldStore } from './held-store.js'
export {
  FAST_BACKOFF,
  testClient,
  type TestClientOptions,
  type TestClientTarget,
} from './test-client.js'
export { spawnRelay, type RelayProcess } from './relay-process.js'
export { nextEvent, until, withTimeout } from './events.js'
export { applyTxn, loadTrace, type Patch, type Trace, type TraceName } from './traces.js'
export { runDocStoreSuite, type StoreFixture } from './doc-store-suite.js'
export { logTailConformanceTests, type LogTailStore } from './doc-store-log-tail-suite.js'
export { expectConverged, sameStateVector, untilSameState } from './convergence.js'
export { RawSocket } from './raw-socket.js'
export {
  runLocalStoreSuite,
  runSharedLocalStoreSuite,
  type LocalStoreFixture,
  type SharedLocalStoreFixture,
} from './local-store-suite.js'
export { startFaultProxy, type FaultProxy } from './fault-proxy.js'
export { startScriptedRelay, type ScriptedRelay, type ScriptedSocket } from './scripted-relay.js'
export { chooseSeed } from './seed.js'
export { postgresBin, startPostgres, type TestPostgres } from './postgres.js'
export { chromiumPath, launchChromium } from './chromium.js'
export { promtoolPath } from './promtool.js'
export {
  childSpanNames,
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpRequest,
} from './otlp-receiver.js'
export { redisServerPath, startRedis, type TestRedis } from './redis.js'
export { tabLocks } from './tab-locks.js'
export { runSetCheck, type SetCheckOptions, type SetCheckResult } from './set-check.js'
export {
  runClusterSetCheck,
  type ClusterSetCheckOptions,
  type ClusterSetCheckResult,
} from './cluster-set-check.js'
export { mulberry32 } from './fault-lane.js'
export {
  runProtocolFuzz,
  type ProtocolFuzzOptions,
  type ProtocolFuzzResult,
} from './protocol-fuzz.js'
export {
  MODEL_FUZZ_RULES,
  MODEL_FUZZ_SCHEMA,
  modelFuzzSchemasFile,
  runModelFuzz,
  type ModelFuzzOptions,
  type ModelFuzzResult,
} from './model-fuzz.js'
export {
  runSimulation,
  type SimulationFaults,
  type SimulationOptions,
  type SimulationResult,
} from './simulation.js'
export {
  CRASH_PHASES,
  runCrashCheck,
  type CrashCheckOptions,
  type CrashCheckResult,
  type CrashPhase,
} from './crash-check.js'
export {
  runDiskFullCheck,
  type DiskFullCheckOptions,
  type DiskFullCheckResult,
} from './disk-full-check.js'
export {
  scopedToken,
  signedToken,
  TEST_SECRET,
  writeToken,
  type TestScope,
  type TestTokenClaims,
} from './tokens.js'
export { modulesLoadedBy, type LoadedModules } from './loaded-modules.js'
export { appendEntries, keyUpdates, runLongLogSuite, type LongLogSizes } from './long-log-suite.js'
