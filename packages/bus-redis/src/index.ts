/** @weft/bus-redis: the bus between relays sharing one store, on Redis pub/sub. */
export { RedisBus, type RedisBusOptions } from './redis-bus.js'
