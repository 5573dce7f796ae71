import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The agent layer's per-call classes and the functions compiled against them (lib/llm). */
const LLM =
  /SharedFunctionInfo (LoopPayload|ChatRequestState|ChatResponseState|ToolRequestState|ToolResponseState|ToolTask|LazySignal|PromisedOutcome|Responses|MappedResult|Channel|runChannel|startTools|run|finish|onValue|onError|direct|callTool|callModel|answered|decide|observe|turnCalls|ask|chat|<instance_members_initializer)>.*reason: weak objects/;

describe('llm: the loop keeps its compiled code across idle gaps (anchored per-call classes, lib/runtime/shape-anchor.ts)', function () {
  this.timeout(120_000);

  it('ReAct bursts, each a new subscription after a full GC: no loop code is thrown away ("weak objects")', () => {
    const result = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--trace-deopt',
        '-r',
        'ts-node/register/transpile-only',
        join(__dirname, 'fixtures', 'react-gaps-child.ts'),
        '8',
      ],
      { encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(result.status, result.stderr).to.equal(0);
    // Deoptimizations of the loop's code per burst (V8 writes its trace to the same stdout as the markers).
    const perRound: number[] = [];
    for (const line of result.stdout.split('\n')) {
      const marker = /^ROUND (\d+)$/.exec(line);
      if (marker !== null) perRound[Number(marker[1])] = 0;
      else if (line === 'END') break;
      else if (perRound.length > 0 && LLM.test(line)) perRound[perRound.length - 1]! += 1;
    }
    expect(perRound).to.have.length(8);
    // Rounds 0-2 warm up. Measured without the llm anchors: 9-18 in each of rounds 3-6 (the loop states,
    // ToolTask, LazySignal, PromisedOutcome, Responses, the channel, and the functions that inlined them).
    expect(perRound.slice(3, 7)).to.deep.equal([0, 0, 0, 0]);
  });
});
