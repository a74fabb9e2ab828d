/**
 * @agora/wordcount — the split-and-count pipeline on Agora: exact, fault-tolerant word count.
 *
 * ```ts
 * import { runWordcount } from '@agora/wordcount';
 * const r = await runWordcount({ master: '127.0.0.1:5050', input: 'big.txt', top: 10 });
 * console.log(r.words, r.lines, r.bytes, r.top);
 * ```
 *
 * Built only on @agora/sdk: a scheduler (`runWordcount`), a count executor (`dist/executor.js`,
 * started by the agents) and the pieces both use, exported for tests and other tools.
 */
export { runWordcount, defaultExecutorCommand, taskCpus } from './scheduler.js';
export type { WordcountOptions, WordcountResult, WordcountProgress, ChunkReport } from './scheduler.js';
export { WordCounter, countBytes, isWhitespace, WHITESPACE } from './counter.js';
export type { Counts, KernelKind } from './counter.js';
export { FreqScanner, FreqTable, encodeTable, decodeTable, mergeTable, topK, topKOfTable } from './freq.js';
export type { TopWord } from './freq.js';
export { splitRanges, nominalBoundaries, chunkCount, autoChunkCount, parseSize, DEFAULT_CHUNK_SIZE } from './split.js';
export type { ByteRange, ReadAt } from './split.js';
export { openInput, serveFile, isUrl, InputError } from './input.js';
export type { InputInfo, RangeServer } from './input.js';
export { wasmSimdAvailable } from './kernel-wasm.js';
