/**
 * What the scheduler and executor drivers do alike when one of their streams ends.
 */
export interface ClosableConnection {
  closed: boolean;
  writer: { close(): void };
  call: { cancel(): void };
}

/**
 * Closes a stream once: stops its writer and cancels the call (a stream may report its end
 * several times — error, end, close). Returns false when it was already closed.
 */
export function closeOnce(conn: ClosableConnection): boolean {
  if (conn.closed) return false;
  conn.closed = true;
  conn.writer.close();
  try {
    conn.call.cancel();
  } catch {
    // already finished
  }
  return true;
}
