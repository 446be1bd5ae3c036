// Imported first by main.ts: instrumentation patches http and @grpc/grpc-js only when they are required
// after it. Off unless the OTEL_* variables ask for it (see docs/observability.md).
import { startTracing } from '@orderflow/telemetry';

export const tracing = startTracing('inventory');
