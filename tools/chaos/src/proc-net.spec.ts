import net from 'node:net';
import { isAlive, listeningInodes, pidListeningOn } from './proc-net';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C35B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123457 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 123458 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:D2F0 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 123459 1 0000000000000000 20 4 30 10 -1
`;

describe('listeningInodes', () => {
  it('when /proc/net/tcp lists listening and connected sockets, then only the listeners on the port are returned', () => {
    expect(listeningInodes(TCP, 8080)).toEqual(['123456']);
    expect(listeningInodes(TCP, 50011)).toEqual(['123457']);
    expect(listeningInodes(TCP, 53999)).toEqual([]);
  });
});

describe("pidListeningOn (this machine's /proc)", () => {
  it('when this process listens on a port, then its pid is found; when nothing does, then none', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(pidListeningOn(port)).toBe(process.pid);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(pidListeningOn(port)).toBeUndefined();
    expect(isAlive(process.pid)).toBe(true);
  });
});
