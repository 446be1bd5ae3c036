import { Metadata } from '@grpc/grpc-js';
import { errorDetails } from './index';

describe('gRPC error details', () => {
  it('when shortages, prices and violations are set, then a reader gets them back', () => {
    const metadata = new Metadata();
    metadata.set(errorDetails.ERROR_REASON_KEY, 'insufficient-stock');
    errorDetails.setInsufficientStock(metadata, [{ productId: 'p', requested: 3, available: 1 }]);
    errorDetails.setPriceChanged(metadata, [{ productId: 'p', requestedUnitPriceMinor: 100, currentUnitPriceMinor: 120 }]);
    errorDetails.setPriceMismatches(metadata, [{ productId: 'q', expectedUnitPriceMinor: 5, currentUnitPriceMinor: 7 }]);
    errorDetails.setFieldViolations(metadata, [{ field: 'items', description: 'is required' }]);
    expect(errorDetails.errorReason(metadata)).toBe('insufficient-stock');
    expect(errorDetails.readInsufficientStock(metadata)).toEqual([{ productId: 'p', requested: 3, available: 1 }]);
    expect(errorDetails.readPriceChanged(metadata)).toEqual([{ productId: 'p', requestedUnitPriceMinor: 100, currentUnitPriceMinor: 120 }]);
    expect(errorDetails.readPriceMismatches(metadata)).toEqual([{ productId: 'q', expectedUnitPriceMinor: 5, currentUnitPriceMinor: 7 }]);
    expect(errorDetails.readFieldViolations(metadata)).toEqual([{ field: 'items', description: 'is required' }]);
  });

  it('when nothing is set, then readers return nothing rather than failing', () => {
    expect(errorDetails.readInsufficientStock(new Metadata())).toEqual([]);
    expect(errorDetails.readPriceChanged(undefined)).toEqual([]);
    expect(errorDetails.readPriceMismatches(new Metadata())).toEqual([]);
    expect(errorDetails.errorReason(undefined)).toBeUndefined();
  });
});
