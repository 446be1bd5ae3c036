import { alertsOfWindow } from './alerts';

describe('alertsOfWindow', () => {
  const t = (ms: number) => new Date(ms);
  const window = { startedAt: 10_000, faultAt: 15_000, endedAt: 20_000 };

  it('when episodes began before, within and after the window, then only those within it are listed, with times from the fault', () => {
    const lines = alertsOfWindow(window, [
      { alert: 'Leftover', labels: {}, activeAt: t(9_000), firedAt: t(9_000) },
      {
        alert: 'OrderflowTargetDown',
        labels: { job: 'inventory', instance: '127.0.0.1:9452' },
        activeAt: t(16_000),
        firedAt: t(16_000),
        resolvedAt: t(19_000),
      },
      { alert: 'OrderflowGrpcServerErrors', labels: { job: 'order-command' }, activeAt: t(17_000) },
      { alert: 'OrderflowOutboxNotPublishing', labels: { job: 'order-command' }, activeAt: t(18_000), firedAt: t(18_000) },
      { alert: 'Later', labels: {}, activeAt: t(20_000) },
      { alert: 'BeforeTheFault', labels: {}, activeAt: t(12_000), firedAt: t(12_000), resolvedAt: t(14_600) },
    ]);
    expect(lines).toEqual([
      'OrderflowTargetDown{127.0.0.1:9452} fired +1 s, resolved +4 s',
      'OrderflowGrpcServerErrors{order-command} pending only, still active at the end',
      'OrderflowOutboxNotPublishing{order-command} fired +3 s, still active at the end',
      'BeforeTheFault fired -3 s, resolved +0 s',
    ]);
  });
});

describe('alertsOfWindow with instance names', () => {
  it('when an instance has a name, then the alert names the process rather than its port', () => {
    const episode = {
      alert: 'OrderflowTargetDown',
      labels: { job: 'order-command', instance: '127.0.0.1:9454' },
      activeAt: new Date(16_000),
      firedAt: new Date(16_000),
    };
    expect(alertsOfWindow({ startedAt: 10_000, faultAt: 15_000, endedAt: 20_000 }, [episode], { '127.0.0.1:9454': 'orderRelay' })).toEqual([
      'OrderflowTargetDown{orderRelay} fired +1 s, still active at the end',
    ]);
  });
});
