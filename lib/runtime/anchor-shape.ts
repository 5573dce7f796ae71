/**
 * The store of shape anchors (see lib/runtime/shape-anchor.ts for why they exist): dormant
 * instances kept alive for the life of the process so that V8 keeps their classes' maps, and the
 * code it compiled against them. A module of its own, importing nothing, so that any runtime
 * module — budgets.ts too, which the per-run classes import — can anchor its own classes.
 *
 * @example
 * anchorShape(new KeyQueue(undefined)); // a dormant instance that holds no user data
 */
const anchors: object[] = [];

/** Keeps `dormant` (an instance that holds no user data) alive for the life of the process, so its class's maps stay. */
export function anchorShape(dormant: object): void {
  anchors.push(dormant);
}
