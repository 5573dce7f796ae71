/**
 * The activation a call or a sent event belongs to, read back from its id. Ids are built by the
 * runtime (deterministic, S13): a call is `<activation id>#<call index>`, a sent event
 * `<activation id>:<send index>`. The last separator is the one the runtime appended, so action
 * names may themselves contain `#` or `:`.
 */
export function activationOfCall(call: string): string {
  return beforeLast(call, '#');
}

/** `<activation id>:<send index>` → the activation id (see {@link activationOfCall}). */
export function activationOfEvent(event: string): string {
  return beforeLast(event, ':');
}

function beforeLast(id: string, separator: string): string {
  const at = id.lastIndexOf(separator);
  return at < 0 ? id : id.slice(0, at);
}
