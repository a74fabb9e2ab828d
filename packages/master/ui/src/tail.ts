/**
 * Following a growing sandbox file through GET /files/read offsets, like `tail -f`. Pure: the
 * file view calls `nextRead` for the request to make and `applyChunk` with the answer.
 */
import type { FileChunk } from './api-types.js';

/** What the view keeps of a followed file. */
export interface TailState {
  /** The text shown (at most `keep` characters, the newest). */
  text: string;
  /** Where the next read starts; undefined before the first read (which asks for the tail). */
  next?: number;
  /** The file's size at the last read. */
  size: number;
  /** True when the text does not start at the beginning of the file. */
  truncated: boolean;
}

export const EMPTY_TAIL: TailState = { text: '', size: 0, truncated: false };

/** The offset and length of the next read: first the last `window` bytes, then what follows. */
export function nextRead(state: TailState, window = 64 * 1024): { offset: number; length: number } {
  return state.next === undefined ? { offset: -1, length: window } : { offset: state.next, length: window };
}

/**
 * Folds an answer into the state. A file that shrank below our offset (rotated or rewritten) is
 * read again from its tail.
 */
export function applyChunk(state: TailState, chunk: FileChunk, keep = 256 * 1024): TailState {
  if (state.next !== undefined && chunk.size < state.next) return { ...EMPTY_TAIL };
  const first = state.next === undefined;
  let text = (first ? '' : state.text) + chunk.data;
  let truncated = first ? chunk.offset > 0 : state.truncated;
  if (text.length > keep) {
    text = text.slice(text.length - keep);
    truncated = true;
  }
  return { text, next: chunk.offset + chunk.length, size: chunk.size, truncated };
}
