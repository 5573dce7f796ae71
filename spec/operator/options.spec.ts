import { expect } from 'chai';
import { agentOperator, action, createExecutor, defineAgent, InputEvent } from '../../lib';

const agent = defineAgent({ name: 'opts', actions: [action('a', InputEvent, () => {})] });

describe('agentOperator options: validated at creation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['options', 5, 'Expected `options` to be an object, got `5` (number)'],
    ['key', { key: 'userId' }, 'Expected `key` to be a function, got `userId` (string)'],
    ['concurrency', { concurrency: 0 }, 'Expected `concurrency` to be an integer >= 1 or Infinity, got `0` (number)'],
    [
      'concurrency',
      { concurrency: 1.5 },
      'Expected `concurrency` to be an integer >= 1 or Infinity, got `1.5` (number)',
    ],
    ['executor', { executor: {} }, 'Expected `executor` to be an Executor (see createExecutor), got `{}` (object)'],
    [
      'executor + concurrency',
      { executor: createExecutor(2), concurrency: 3 },
      'Give either `concurrency` or `executor` to agentOperator, not both: an executor has its own concurrency.',
    ],
    [
      'scheduler',
      { scheduler: Date },
      'Expected `scheduler` to be an RxJS SchedulerLike (e.g. asapScheduler or a TestScheduler), got `a function` (function)',
    ],
    [
      'errorPolicy',
      { errorPolicy: 'ignore' },
      "Expected `errorPolicy` to be one of 'fail', 'isolate', got `ignore` (string)",
    ],
    ['onRunFailed', { onRunFailed: true }, 'Expected `onRunFailed` to be a function, got `true` (boolean)'],
    [
      'maxBufferedInputs',
      { maxBufferedInputs: -1 },
      'Expected `maxBufferedInputs` to be an integer >= 0 or Infinity, got `-1` (number)',
    ],
    [
      'overflow',
      { overflow: 'drop' },
      "Expected `overflow` to be one of 'error', 'drop-newest', 'drop-oldest', got `drop` (string)",
    ],
    ['onDropped', { onDropped: 1 }, 'Expected `onDropped` to be a function, got `1` (number)'],
    ['validateEvents', { validateEvents: 'yes' }, 'Expected `validateEvents` to be a boolean, got `yes` (string)'],
    ['output', { output: 'all' }, "Expected `output` to be one of 'payload', 'envelope', got `all` (string)"],
    ['inspect', { inspect: {} }, 'Expected `inspect` to be a function, got `{}` (object)'],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects a bad \`${name}\`: ${message}`, () => {
      expect(() => agentOperator(agent, options as never)).to.throw(TypeError, message);
    });
  }

  it('rejects an unknown option, listing the known ones', () => {
    expect(() => agentOperator(agent, { keys: () => 1 } as never)).to.throw(
      TypeError,
      /^Unknown option `keys` for agentOperator\. Known options: key, concurrency/,
    );
  });

  it('rejects something that is not an agent', () => {
    expect(() => agentOperator({} as never)).to.throw(
      'agentOperator needs an agent made by defineAgent({ name, actions }).',
    );
  });

  it('createExecutor validates its concurrency', () => {
    expect(() => createExecutor(0)).to.throw(
      TypeError,
      'Expected `concurrency` to be an integer >= 1 or Infinity, got `0` (number)',
    );
  });
});
