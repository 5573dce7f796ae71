/**
 * Live progress for the `npm start` demo, built on an inspector's `stats()`.
 * On a TTY it redraws one status line ten times a second; elsewhere (CI logs, pipes) it stays
 * quiet. Either way it ends with one plain summary line. Wall-clock timers are right here: this
 * is a terminal UI, not agent logic.
 */
import type { AgentInspector } from '../../lib/observe';

export interface ProgressOptions {
  /** Where to draw. @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** Runs expected, for the bar. */
  readonly total: number;
  /** Redraw period in ms (TTY only). @default 100 */
  readonly intervalMs?: number;
}

export interface Progress {
  /** Stops drawing, writes one plain summary line in its place, and returns it. */
  stop(): string;
}

export function startProgress(label: string, inspector: AgentInspector, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const started = performance.now();
  const draw = (): void => {
    const s = inspector.stats();
    const done = s.runsCompleted + s.runsFailed;
    const seconds = (performance.now() - started) / 1000;
    const width = 24;
    const filled = Math.min(width, Math.round((done / Math.max(options.total, 1)) * width));
    const line =
      `${label} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${options.total} runs · ` +
      `${seconds > 0 ? Math.round(done / seconds) : 0}/s · ${s.activeKeys} keys active · ${s.inFlightAsync} async`;
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 120) - 1)}`);
  };
  const timer = tty ? setInterval(draw, options.intervalMs ?? 100) : undefined;
  timer?.unref();
  if (tty) draw();
  return {
    stop() {
      clearInterval(timer);
      const s = inspector.stats();
      const ms = performance.now() - started;
      const done = s.runsCompleted + s.runsFailed;
      const summary =
        `${label}: ${done} runs in ${ms.toFixed(0)} ms (${Math.round(done / (ms / 1000))} runs/s), ${s.runsFailed} failed; ` +
        `peak ${s.peakActiveKeys} active keys, ${s.peakInFlightAsync} async blocks in flight; ${s.outputs} outputs`;
      stream.write(`${tty ? '\r\x1b[2K' : ''}${summary}\n`);
      return summary;
    },
  };
}
