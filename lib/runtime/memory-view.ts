import type { MemoryData, MemoryRef, MemoryValue } from '../context/memory-ref';
import type { MemoryNode } from './memory';

/** Which memory a view shows. */
export type MemoryKind = 'shortTermMemory' | 'sensoryMemory';

/** What a view needs from the activation that hands it out. */
export interface MemoryHost {
  /** The memory, after checking that the caller is in the activation's own sync block (S5); throws otherwise. */
  memoryNode(kind: MemoryKind): MemoryNode;
  /** A sync block changed this memory (stores journal short-term memory at run end, S13). */
  memoryWritten(kind: MemoryKind): void;
}

/**
 * `ctx.shortTermMemory` / `ctx.sensoryMemory`: a guarded view of one memory. A class rather
 * than an object of closures, so that an action touching memory costs one small object per
 * run instead of eight (it showed in the heap of a million live runs).
 */
export class MemoryView implements MemoryRef {
  constructor(
    private readonly host: MemoryHost,
    private readonly kind: MemoryKind,
  ) {}

  get<T extends MemoryData<T> = MemoryValue>(path: string): T | undefined {
    return this.host.memoryNode(this.kind).get(path) as T | undefined;
  }

  set<T extends MemoryData<T>>(path: string, value: T): void {
    // The node validates at run time what the type allows structurally (class instances, explicit undefined).
    this.host.memoryNode(this.kind).set(path, value as MemoryValue);
    this.host.memoryWritten(this.kind);
  }

  has(path: string): boolean {
    return this.host.memoryNode(this.kind).has(path);
  }

  delete(path: string): boolean {
    const removed = this.host.memoryNode(this.kind).delete(path);
    if (removed) this.host.memoryWritten(this.kind);
    return removed;
  }

  keys(path?: string): string[] {
    return this.host.memoryNode(this.kind).keys(path);
  }

  toJSON(): Record<string, MemoryValue> {
    return this.host.memoryNode(this.kind).toJSON();
  }
}
