export { INVENTORY_MIGRATIONS } from './0001-create-inventory';
