import { SoldOutProducts } from './sold-out-products';

describe('SoldOutProducts', () => {
  let now = 1_000;
  const clock = () => now;
  const item = (productId: string, quantity = 1) => ({ productId, quantity, unitPriceMinor: 100 });

  it('when inventory refused a product with none left, then it is refused here until the time is up, summed per product', () => {
    const soldOut = new SoldOutProducts(200, clock);
    soldOut.record([{ productId: 'a', requested: 1, available: 0 }]);
    expect(soldOut.shortages([item('a', 2), item('b'), item('a')])).toEqual([{ productId: 'a', requested: 3, available: 0 }]);
    now += 199;
    expect(soldOut.shortages([item('a')])).toHaveLength(1);
    now += 1;
    expect(soldOut.shortages([item('a')])).toEqual([]);
  });

  it('when a product was short but not empty, then it is not remembered: a smaller order may still fit', () => {
    const soldOut = new SoldOutProducts(200, clock);
    soldOut.record([{ productId: 'a', requested: 5, available: 2 }]);
    expect(soldOut.shortages([item('a')])).toEqual([]);
  });

  it('when the time is 0, then nothing is remembered', () => {
    const soldOut = new SoldOutProducts(0, clock);
    soldOut.record([{ productId: 'a', requested: 1, available: 0 }]);
    expect(soldOut.shortages([item('a')])).toEqual([]);
  });
});
