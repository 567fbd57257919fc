import { describe, expect, it } from 'vitest';
import { createSystemModule, type ModuleContext } from '../../../src/kcl/modules/index.ts';
import { KclRuntimeError, list, repr, type KclValue } from '../../../src/kcl/values.ts';

const ctx: ModuleContext = { workdir: '/', modRoot: '/', currentFile: '/main.k', setStreamOutput: () => {} };
const net = createSystemModule('net', ctx);

function call(member: string, ...positional: KclValue[]): KclValue {
  const fn = net?.members.get(member);
  if (!fn || typeof fn !== 'object' || fn.kind !== 'function') throw new Error(`no net.${member}`);
  return fn.call(positional, new Map());
}

describe('net module', () => {
  it('splits and joins host and port like Go', () => {
    expect(repr(call('split_host_port', 'B-K0NZJGH6-0048.local:80'))).toBe("['B-K0NZJGH6-0048.local', '80']");
    expect(repr(call('split_host_port', '[::1]:443'))).toBe("['::1', '443']");
    expect(repr(call('split_host_port', 'host:'))).toBe("['host', '']");
    expect(() => call('split_host_port', 'host')).toThrow('missing port in address');
    expect(() => call('split_host_port', '::1:80')).toThrow('too many colons');
    expect(() => call('split_host_port', '[::1]80')).toThrow('missing port');
    expect(call('join_host_port', 'example.com', 80n)).toBe('example.com:80');
    expect(call('join_host_port', '::1', '8080')).toBe('[::1]:8080');
    expect(() => call('join_host_port', 'h', 1.5)).toThrow(KclRuntimeError);
  });

  it('accepts only strict dotted-decimal IPv4 and well-formed IPv6', () => {
    for (const ip of [
      '255.255.0.1',
      '1.0.0.0',
      '0.0.0.0',
      '::',
      '::1',
      '2001:DB8::1',
      '1:2:3:4:5:6:7:8',
      '::ffff:1.2.3.4',
      '1::',
    ]) {
      expect(call('is_IP', ip), ip).toBe(true);
    }
    for (const ip of [
      '192.168.0,1',
      '192.168.0.',
      '256.1.1.1',
      '255.255.0.-1',
      '192.0022.1.1',
      '0xFF.0xFF.0xFF.0xFF',
      '1.2.3.4.5',
      '',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1:2:3:4:5:6:7',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7::8',
      '12345::',
      '::1.2.3',
    ]) {
      expect(call('is_IP', ip), ip).toBe(false);
    }
    expect(call('is_IPv4', '10.0.0.1')).toBe(true);
    expect(call('is_IPv4', '::ffff:10.0.0.1')).toBe(true);
    expect(call('is_IPv4', '2001:db8::1')).toBe(false);
  });

  it('prints addresses in canonical form', () => {
    expect(call('parse_IP', '2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(call('parse_IP', '1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(call('parse_IP', '1:0:2:3:4:5:6:7')).toBe('1:0:2:3:4:5:6:7');
    expect(call('parse_IP', '::')).toBe('::');
    expect(call('parse_IP', 'nope')).toBe('');
    expect(call('to_IP4', '::FFFF:192.168.1.10')).toBe('192.168.1.10');
    expect(call('to_IP4', '2001:db8::1')).toBe('');
    expect(call('to_IP6', '192.168.1.10')).toBe('::ffff:192.168.1.10');
    expect(call('to_IP6', '2001:db8:0:0::1')).toBe('2001:db8::1');
    expect(call('to_IP16', '192.168.1.10')).toBe('192.168.1.10');
    expect(call('IP_string', 3232235777n)).toBe('192.168.1.1');
    expect(call('IP_string', '010.1.1.1')).toBe('');
    expect(() => call('IP_string', -1n)).toThrow(KclRuntimeError);
  });

  it('classifies addresses like Go', () => {
    const cases: [string, string, boolean][] = [
      ['is_multicast_IP', '239.255.255.255', true],
      ['is_multicast_IP', 'ff02::1', true],
      ['is_multicast_IP', '10.0.0.1', false],
      ['is_loopback_IP', '127.0.0.1', true],
      ['is_loopback_IP', '::1', true],
      ['is_loopback_IP', '::2', false],
      ['is_link_local_multicast_IP', '224.0.0.0', true],
      ['is_link_local_multicast_IP', '224.0.1.0', false],
      ['is_link_local_multicast_IP', 'ff12::1', true],
      ['is_interface_local_multicast_IP', '224.0.0.0', false],
      ['is_interface_local_multicast_IP', 'ff11::1', true],
      ['is_interface_local_multicast_IP', 'ff12::1', false],
      ['is_link_local_unicast_IP', 'fe80::2012:1', true],
      ['is_link_local_unicast_IP', '169.254.3.4', true],
      ['is_link_local_unicast_IP', 'fec0::1', false],
      ['is_global_unicast_IP', '220.181.108.89', true],
      ['is_global_unicast_IP', '2607:f8b0:4005:802::200e', true],
      ['is_global_unicast_IP', '64:ff9b::800:1', true],
      ['is_global_unicast_IP', '255.255.255.255', false],
      ['is_global_unicast_IP', 'fe80::1', false],
      ['is_global_unicast_IP', 'not an ip', false],
      ['is_unspecified_IP', '0.0.0.0', true],
      ['is_unspecified_IP', '::', true],
      ['is_unspecified_IP', '::1', false],
    ];
    for (const [fn, ip, want] of cases) expect(call(fn, ip), `${fn}(${ip})`).toBe(want);
  });

  it('parses CIDRs and tests membership', () => {
    expect(repr(call('parse_CIDR', '192.168.1.0/24'))).toBe("{'ip': '192.168.1.0', 'mask': 24}");
    expect(repr(call('parse_CIDR', '2001:db8::/64'))).toBe("{'ip': '2001:db8::', 'mask': 64}");
    expect(repr(call('parse_CIDR', '10.1.2.3'))).toBe("{'ip': '10.1.2.3', 'mask': 32}");
    expect(repr(call('parse_CIDR', '1.2.3.4/16'))).toBe('{}');
    expect(repr(call('parse_CIDR', '1.2.3.0/33'))).toBe('{}');
    expect(call('is_IP_in_CIDR', '192.168.1.1', '192.168.1.0/24')).toBe(true);
    expect(call('is_IP_in_CIDR', '192.168.0.1', '192.168.1.0/24')).toBe(false);
    expect(call('is_IP_in_CIDR', '2001:db8::1', '2001:db8::/64')).toBe(true);
    expect(call('is_IP_in_CIDR', '2001:db8:0:1::1', '2001:db8::/64')).toBe(false);
    expect(call('is_IP_in_CIDR', '::ffff:192.168.1.1', '192.168.1.0/24')).toBe(true);
    expect(call('is_IP_in_CIDR', '192.168.1.1', '::/0')).toBe(false);
  });

  it('computes subnets, hosts and netmasks like Terraform', () => {
    expect(call('CIDR_subnet', '10.0.0.0/8', 8n, 5n)).toBe('10.5.0.0/16');
    expect(call('CIDR_subnet', '2001:db8::/56', 8n, 25n)).toBe('2001:db8:0:19::/64');
    expect(() => call('CIDR_subnet', '10.0.0.0/8', 2n, 4n)).toThrow(KclRuntimeError);
    expect(() => call('CIDR_subnet', '10.0.0.0/30', 3n, 0n)).toThrow(KclRuntimeError);
    expect(repr(call('CIDR_subnets', '10.0.0.0/8', list([8n, 8n])))).toBe("['10.0.0.0/16', '10.1.0.0/16']");
    expect(repr(call('CIDR_subnets', '10.1.0.0/16', list([4n, 4n, 8n, 4n])))).toBe(
      "['10.1.0.0/20', '10.1.16.0/20', '10.1.32.0/24', '10.1.48.0/20']",
    );
    expect(repr(call('CIDR_subnets', '2001:db8::/56', list([8n, 8n])))).toBe(
      "['2001:db8::/64', '2001:db8:0:1::/64']",
    );
    expect(() => call('CIDR_subnets', '10.0.0.0/30', list([1n, 1n, 1n]))).toThrow('not enough address space');
    expect(call('CIDR_host', '10.0.0.0/8', 5n)).toBe('10.0.0.5');
    expect(call('CIDR_host', '10.0.0.0/24', -1n)).toBe('10.0.0.255');
    expect(call('CIDR_host', '2001:db8::/56', 25n)).toBe('2001:db8::19');
    expect(() => call('CIDR_host', '10.0.0.0/24', 256n)).toThrow(KclRuntimeError);
    expect(call('CIDR_netmask', '10.0.0.0/8')).toBe('255.0.0.0');
    expect(call('CIDR_netmask', '10.0.0.0/20')).toBe('255.255.240.0');
    expect(call('CIDR_netmask', '2001:db8::/64')).toBe('ffff:ffff:ffff:ffff::');
    expect(() => call('CIDR_netmask', '10.0.0.0/40')).toThrow('invalid CIDR address');
  });
});
