// `npm run bench:grpc-wins`: see apps/inventory/bench/grpc-wins.bench.ts.
import '../../apps/inventory/bench/grpc-wins.bench';
