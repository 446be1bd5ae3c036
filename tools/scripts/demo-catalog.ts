import type { inventoryV1 } from '@orderflow/proto';

/** The products `npm start` seeds. Prices in minor units (cents). */
export const DEMO_CATALOG: inventoryV1.UpsertProductRequest[] = [
  { id: 'demo-mug', name: 'Orderflow mug', priceMinor: 1200, available: 500 },
  { id: 'demo-tshirt', name: 'Orderflow T-shirt', priceMinor: 2500, available: 300 },
  { id: 'demo-hoodie', name: 'Orderflow hoodie', priceMinor: 5900, available: 120 },
  { id: 'demo-sticker', name: 'Sticker pack', priceMinor: 400, available: 5000 },
  { id: 'demo-notebook', name: 'Dotted notebook', priceMinor: 1500, available: 250 },
  { id: 'demo-pen', name: 'Gel pen', priceMinor: 300, available: 2000 },
  { id: 'demo-cap', name: 'Baseball cap', priceMinor: 2200, available: 150 },
  { id: 'demo-bottle', name: 'Steel bottle', priceMinor: 2900, available: 200 },
  { id: 'demo-tote', name: 'Canvas tote', priceMinor: 1800, available: 400 },
  { id: 'demo-flash', name: 'Flash-sale gadget', priceMinor: 9900, available: 100 },
  // The product of the seed README's example order, so its curl works as written.
  { id: 'product-uuid', name: '示例商品 (the seed example product)', priceMinor: 9950, available: 1000 },
];
