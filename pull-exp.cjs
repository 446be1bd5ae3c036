const { connect, AckPolicy, StringCodec } = require('nats');
(async () => {
  const admin = await connect({ servers: '127.0.0.1:24222' });
  const jsm = await admin.jetstreamManager();
  const name = 'EXP' + Date.now();
  await jsm.streams.add({ name, subjects: [name + '.>'] });
  await jsm.consumers.add(name, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30e9 });
  const nc = await connect({ servers: '127.0.0.1:24222' });
  const c = await nc.jetstream().consumers.get(name, 'c');
  let lost = 0;
  for (let round = 0; round < 20; round++) {
    const msgs = await c.consume({ max_messages: 64 });
    const done = (async () => { for await (const m of msgs) { m.ack(); } })();
    if (process.env.WARM !== '0') await admin.jetstream().publish(name + '.x', StringCodec().encode('warm'));
    await new Promise((r) => setTimeout(r, 30));
    await msgs.close(); await done; await new Promise((r) => setTimeout(r, Number(process.env.GAP ?? 0)));
    await admin.jetstream().publish(name + '.x', StringCodec().encode('hi'));
    await new Promise((r) => setTimeout(r, 100));
    const i = await jsm.consumers.info(name, 'c');
    if (i.num_ack_pending > 0) { lost++; console.log('round', round, 'ack pending', i.num_ack_pending, 'waiting', i.num_waiting); }
    const m2 = await c.consume({ max_messages: 64 });
    const d2 = (async () => { for await (const m of m2) { m.ack(); } })();
    for (let t = 0; t < 400; t++) { const j = await jsm.consumers.info(name, 'c'); if (j.num_pending + j.num_ack_pending === 0) break; await new Promise((r) => setTimeout(r, 100)); }
    await m2.close(); await d2;
  }
  console.log('lost rounds', lost);
  await jsm.streams.delete(name);
  await admin.close(); await nc.close();
})();
