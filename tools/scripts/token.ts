/**
 * `npm run token -- <customer-id> [--admin] [--ttl SECONDS]`: prints a JWT for local use, signed with
 * JWT_SECRET (or the documented dev default) as the gateway expects it.
 */
import { DEV_JWT_SECRET } from '../../apps/gateway/src/config';
import { signDevToken } from '../../apps/gateway/src/dev-token';

const args = process.argv.slice(2);
const customerId = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--ttl');
if (!customerId || !/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/.test(customerId)) {
  console.error('usage: npm run token -- <customer-id> [--admin] [--ttl SECONDS]');
  process.exit(2);
}
const ttlIndex = args.indexOf('--ttl');
const ttlSeconds = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 3600;
console.log(signDevToken(process.env.JWT_SECRET ?? DEV_JWT_SECRET, customerId, { admin: args.includes('--admin'), ttlSeconds }));
