import { buildEngine, resolveConfig } from '@mef/cli';
const { engine, plugins } = buildEngine(resolveConfig({ bayes: { enabled: false } }, {}));
console.log(plugins);
await engine.start();
const msg = Buffer.from('From: a@b.test\r\nTo: c@d.test\r\nSubject: hi\r\nMessage-ID: <x@y>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\n' + 'hello world this is a test line of text\r\n'.repeat(50));
for (let round = 0; round < 3; round++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const n = 1000;
  for (let i = 0; i < n; i++) await engine.scan(msg, { mailFrom: 'a@b.test', recipients: ['c@d.test'], helo: 'x.test', clientAddress: '192.0.2.1' });
  const c = process.cpuUsage(c0);
  console.log('scan cpu ms/msg', ((c.user + c.system) / 1000 / n).toFixed(3), 'wall', ((performance.now() - t0) / n).toFixed(3));
}
await engine.stop();
