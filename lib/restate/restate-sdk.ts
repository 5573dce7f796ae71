import './polyfill';
import type * as Sdk from '@restatedev/restate-sdk';
import { peerFallback } from '../load-peer';

/** The Restate SDK module (its types only are imported statically). */
export type RestateSdk = typeof Sdk;

let sdk: RestateSdk | undefined;

/**
 * The Restate SDK, loaded on first use — by `agentObject`, `serveAgents` and the runs they serve —
 * rather than when `rx-agents/restate` is imported: the client side (`restateAgent`,
 * `restateService`, `registerDeployment`, `startRestateServer`) never loads it, and an ESM bundle
 * of an app imports the subpath without running the SDK's CommonJS build (which requires Node
 * built-ins). Inside such a bundle the SDK is loaded from `node_modules` at run time (see `peerFallback`).
 * The `Promise.withResolvers` polyfill (Node 20) is installed before, by the import above.
 */
export function restateSdk(feature: string): RestateSdk {
  if (sdk !== undefined) return sdk;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: an optional peer, see above
    sdk = require('@restatedev/restate-sdk') as RestateSdk;
  } catch (error) {
    sdk = peerFallback<RestateSdk>(error, '@restatedev/restate-sdk', feature);
  }
  return sdk;
}
