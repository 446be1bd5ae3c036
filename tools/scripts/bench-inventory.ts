// `npm run bench:inventory`: see apps/inventory/bench/reserve.bench.ts.
import '../../apps/inventory/bench/reserve.bench';
