import { ensurePackages, PROMETHEUS_PACKAGES } from '@orderflow/stack';

/** The alert checks need Debian's Prometheus (promtool, prometheus): installed here when missing (as root). */
export default () => ensurePackages(console.log, PROMETHEUS_PACKAGES);
