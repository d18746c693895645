/// <reference types="node" preserve="true" />
// @types/node for the published types, also when a tsconfig's "types" omits it (see src/index.ts).
/**
 * `threading/distributed`: the executor API of `concurrent.futures` past one machine.
 * `RedisExecutor` submits tasks to a BullMQ queue on Redis; `npx threading worker` processes run
 * them (see executor.ts, worker.ts, and the README's "Distributed executor").
 *
 * BullMQ and ioredis are optional peer dependencies: importing this entry without them installed
 * is an Error that names what to install.
 */
import { createRequire } from "node:module";
import { MISSING } from "./connection.js";

{
  const require = createRequire(import.meta.url);
  for (const name of ["bullmq", "ioredis"]) {
    try {
      require.resolve(name);
    } catch (e) {
      throw new Error(MISSING, { cause: e });
    }
  }
}

export { type MapOptions, RedisExecutor, type RedisExecutorOptions } from "./executor.js";
