/**
 * `npm run bench:fuzz`: the fuzz suites of `npm test`, run longer (AGORA_FUZZ_RUNS cases per
 * method or route, default 500; AGORA_FUZZ_SEED to replay a failure), with cases per second.
 */
import { runGrpcFuzz } from '../test/helpers/fuzz-grpc.js';
import { runRestFuzz } from '../test/helpers/fuzz-rest.js';
import { FUZZ_SEED, fuzzRuns } from '../test/helpers/fuzz.js';

const runs = fuzzRuns(500);
console.log(`fuzzing with ${runs} cases per method/route, seed ${FUZZ_SEED}`);
let t0 = Date.now();
const grpcTally = await runGrpcFuzz({ runs, log: (l) => console.log(l) });
const grpcSeconds = (Date.now() - t0) / 1000;
console.log(`gRPC: ${grpcTally.total()} cases in ${grpcSeconds.toFixed(1)} s (${(grpcTally.total() / grpcSeconds).toFixed(0)} cases/s), no crash, hang or state change from a rejected request`);
t0 = Date.now();
const restTally = await runRestFuzz({ runs, log: (l) => console.log(l) });
const restSeconds = (Date.now() - t0) / 1000;
console.log(`REST: ${restTally.total()} cases in ${restSeconds.toFixed(1)} s (${(restTally.total() / restSeconds).toFixed(0)} cases/s), no 5xx, hang or state change from a rejected request`);
process.exit(0);
