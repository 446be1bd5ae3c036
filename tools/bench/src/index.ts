export { percentile, ms, perSecond } from './stats';
export { renderChart } from './chart';
export type { Series } from './chart';
export { rawSingleRowUpdate, rawOrderTransaction } from './raw';
export type { RawResult, MysqlTarget } from './raw';
export { runOrderLoad } from './rest';
export type { RestResult, OrderLoad } from './rest';
export { MoveLoad, customersWhere, samplesOf, classFigures, summarize, windowsEvery, createdOrders, formatSummary, inSpan, placement } from './move-load';
export type { MoveLoadOptions, BucketSpan, LoadSample, LoadWindow, ClassFigures, WindowSummary, CreatedOrder, Placement } from './move-load';
