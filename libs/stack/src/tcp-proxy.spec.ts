import net from 'node:net';
import { TcpProxy } from './tcp-proxy';

function echoServer(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => socket.pipe(socket));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(text));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

describe('TcpProxy', () => {
  it('when cut, then clients are refused; when restored, then traffic flows again on the same port', async () => {
    const echo = await echoServer();
    const proxy = new TcpProxy({ host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port });
    await proxy.start();
    const port = proxy.port;
    expect(await roundTrip(port, 'hello')).toBe('hello');
    await proxy.cut();
    await expect(roundTrip(port, 'again')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.restore();
    expect(proxy.port).toBe(port);
    expect(await roundTrip(port, 'back')).toBe('back');
    await proxy.stop();
    echo.close();
  });
});
