/**
 * The layer rule of lib/, checked by `npm run lint:layers` (inside `npm test`), type-only imports
 * included. The core reads bottom-up: errors → events → context → agent → runtime → operator; a
 * layer imports only layers below it. The side folders — observe (inspectors), workers (thread
 * pool), store (durable stores), testing — reach the core only through its public seams, and the
 * core never imports them (except the runtime's journal, which speaks the store contract). The
 * optional features (llm, restate) sit on top of the agent layer and reach the runtime only
 * through the seams named below.
 */
const core = ['events', 'context', 'agent', 'runtime', 'operator'];
/** The base every layer may import: the errors, the describer their messages use (it imports nothing), and the optional-peer loader. */
const base = '^lib/(errors|describe-key|load-peer)\\.ts$';

/** `^lib/(a|b)/`: a path pattern for some folders of lib/. */
const folders = (names) => `^lib/(${names.join('|')})/`;

/** A core layer may import itself, errors.ts, the layers below it, and the given extra paths. */
function layer(name, extra = []) {
  const below = core.slice(0, core.indexOf(name));
  return {
    name: `layer-${name}`,
    comment: `lib/${name} may import only ${['errors', ...below].join(', ')}${extra.length ? ` and ${extra.join(', ')}` : ''} (lower layers never import higher ones)`,
    severity: 'error',
    from: { path: `^lib/${name}/` },
    to: {
      path: '^lib/',
      pathNot: [`^lib/${name}/`, base, ...(below.length ? [folders(below)] : []), ...extra],
    },
  };
}

/** A side folder may import itself, errors.ts, and the given seams of the core. */
function side(name, seams) {
  return {
    name: `seam-${name}`,
    comment: `lib/${name} reaches the core only through ${seams.length ? seams.join(', ') : 'errors.ts'}`,
    severity: 'error',
    from: { path: `^lib/${name}/` },
    to: { path: '^lib/', pathNot: [`^lib/${name}/`, base, ...seams] },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'errors-is-the-base',
      comment:
        'lib/errors.ts imports nothing of lib/ but the describer (which imports nothing): every layer may throw its errors.',
      severity: 'error',
      from: { path: '^lib/(errors|describe-key)\\.ts$' },
      to: { path: '^lib/', pathNot: '^lib/describe-key\\.ts$' },
    },
    layer('events'),
    layer('context'),
    layer('agent'),
    // The journal (runtime/journal.ts) writes through the store contract and its value codec.
    layer('runtime', ['^lib/store/store\\.ts$', '^lib/store/codec\\.ts$']),
    layer('operator', ['^lib/store/store\\.ts$']),
    side('observe', ['^lib/runtime/lifecycle\\.ts$']),
    side('testing', ['^lib/runtime/lifecycle\\.ts$']),
    // The pool queues its tasks on the runtime's FIFO (a leaf: it imports nothing).
    side('workers', ['^lib/runtime/fifo\\.ts$']),
    side('store', ['^lib/context/memory-ref\\.ts$']),
    // The state API reads a running operator through the runtime's state probe (and the types it hands out).
    side('inspect', [
      '^lib/observe/',
      '^lib/context/memory-ref\\.ts$',
      '^lib/runtime/(lifecycle|state-probe|admission|async-call)\\.ts$',
    ]),
    // The command line sits on top of the store reader and the timeline renderer; nothing imports it.
    side('cli', ['^lib/store/', '^lib/observe/', '^lib/runtime/lifecycle\\.ts$']),
    // The agent layer builds agents (events, context, agent) and streams and reports through the run channel.
    side('llm', [folders(['events', 'context', 'agent']), '^lib/runtime/(run-channel|lifecycle|wait-errors)\\.ts$']),
    // Restate runs the same agents and actions on its own context, with the same memory model.
    side('restate', [
      folders(['events', 'context', 'agent']),
      '^lib/runtime/(memory|memory-view|lifecycle|parking|wait-errors)\\.ts$',
    ]),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
