import { grpcChannel } from './grpc-client';

describe('grpcChannel', () => {
  it('when given one address or a gRPC target, then it connects to it as given', () => {
    expect(grpcChannel('inventory:50052').target).toBe('inventory:50052');
    expect(grpcChannel('dns:///inventory:50052').target).toBe('dns:///inventory:50052');
    expect(grpcChannel('ipv4:127.0.0.1:1,127.0.0.1:2').target).toBe('ipv4:127.0.0.1:1,127.0.0.1:2');
  });

  it('when given a list of IP addresses, then every replica is one address of an ipv4 or ipv6 target', () => {
    expect(grpcChannel('127.0.0.1:50052, 127.0.0.1:50062').target).toBe('ipv4:127.0.0.1:50052,127.0.0.1:50062');
    expect(grpcChannel('[::1]:50052,[::1]:50062').target).toBe('ipv6:[::1]:50052,[::1]:50062');
  });

  it('when given a list of names, then it refuses it, pointing at a DNS name for every replica', () => {
    expect(() => grpcChannel('a:1,b:2')).toThrow(/dns:\/\/\/name:port/);
    expect(() => grpcChannel(' ')).toThrow(/no gRPC address/);
  });

  it('when a channel is made, then calls go round-robin over the ready addresses', () => {
    const config = JSON.parse(grpcChannel('127.0.0.1:1,127.0.0.1:2').options['grpc.service_config'] as string);
    expect(config).toEqual({ loadBalancingConfig: [{ round_robin: {} }] });
  });

  it('when a channel is made, then channelz is off, unless the caller asks otherwise', () => {
    expect(grpcChannel('127.0.0.1:1').options['grpc.enable_channelz']).toBe(0);
    expect(grpcChannel('127.0.0.1:1', { 'grpc.enable_channelz': 1 }).options['grpc.enable_channelz']).toBe(1);
  });
});
