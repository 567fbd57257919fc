/**
 * The `net` system module: IP address and CIDR helpers with the semantics of Go's `net`
 * package (strict dotted-decimal IPv4, IPv6 without zones, IPv4-mapped IPv6 counting as IPv4
 * for the classification checks), plus Terraform-style subnet arithmetic.
 */
import { hostname } from 'node:os';
import {
  KclDict,
  KclList,
  KclRuntimeError,
  isList,
  typeName,
  type KclModule,
  type KclValue,
} from '../values.ts';
import type { Args } from '../builtins/args.ts';
import { defineModule } from './define.ts';

/** An address as written: `family` follows the syntax, `value` is 32 or 128 bits wide. */
interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

interface IpNetwork {
  readonly family: 4 | 6;
  /** The network address (host bits cleared). */
  readonly base: bigint;
  readonly prefix: number;
}

const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);
const V4_MAPPED_PREFIX = 0xffffn;

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Go rejects leading zeros since they were historically read as octal.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseGroups(text: string, allowTrailingIPv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (allowTrailingIPv4 && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 1) {
    const all = parseGroups(text, true);
    if (all?.length !== 8) return undefined;
    groups = all;
  } else {
    const head = parseGroups(halves[0] ?? '', false);
    const tail = parseGroups(halves[1] ?? '', true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIPv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIPv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** The IPv4 address behind `ip`: itself, or the embedded one of `::ffff:a.b.c.d` (Go's `To4`). */
function toIPv4(ip: IpAddress): bigint | undefined {
  if (ip.family === 4) return ip.value;
  return ip.value >> 32n === V4_MAPPED_PREFIX ? ip.value & 0xffffffffn : undefined;
}

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952 text: lowercase, longest run of two or more zero groups as `::`, mapped IPv4 dotted. */
function formatIPv6(value: bigint): string {
  if (value >> 32n === V4_MAPPED_PREFIX) return `::ffff:${formatIPv4(value & 0xffffffffn)}`;
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

function formatIp(family: 4 | 6, value: bigint): string {
  return family === 4 ? formatIPv4(value) : formatIPv6(value);
}

const formatAddress = (ip: IpAddress): string => formatIp(ip.family, ip.value);

function maskOf(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** `addr/prefix`, or a bare address as a single-host network; `strict` rejects set host bits. */
function parseCidr(text: string, strict: boolean): IpNetwork | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const bits = bitsOf(ip.family);
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^(0|[1-9]\d*)$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  const prefix = Number(prefixText);
  const base = ip.value & maskOf(ip.family, prefix);
  if (strict && base !== ip.value) return undefined;
  return { family: ip.family, base, prefix };
}

function requireCidr(args: Args): IpNetwork {
  const text = args.str(0, 'cidr');
  const network = parseCidr(text, false);
  if (!network) throw new KclRuntimeError(`invalid CIDR address: ${text}`, 'ValueError');
  return network;
}

const formatNetwork = (n: IpNetwork): string => `${formatIp(n.family, n.base)}/${n.prefix}`;

function subnet(network: IpNetwork, newBits: bigint, netNum: bigint): IpNetwork {
  const bits = bitsOf(network.family);
  if (newBits < 0n || BigInt(network.prefix) + newBits > BigInt(bits)) {
    throw new KclRuntimeError(
      `cannot extend prefix /${network.prefix} by ${newBits} bits in a ${bits}-bit address`,
      'ValueError',
    );
  }
  const prefix = network.prefix + Number(newBits);
  if (netNum < 0n || netNum >= 1n << newBits) {
    throw new KclRuntimeError(`${newBits} additional bits cannot hold subnet number ${netNum}`, 'ValueError');
  }
  return { family: network.family, base: network.base | (netNum << BigInt(bits - prefix)), prefix };
}

/** Consecutive subnets of the given extra prefix lengths, each aligned to its own size. */
function subnets(network: IpNetwork, newBitsList: readonly KclValue[]): KclList {
  const bits = bitsOf(network.family);
  const end = network.base + (1n << BigInt(bits - network.prefix));
  let next = network.base;
  const out: KclValue[] = [];
  for (const newBits of newBitsList) {
    if (typeof newBits !== 'bigint') {
      throw new KclRuntimeError(
        `CIDR_subnets() expects a list of int, got ${typeName(newBits)}`,
        'TypeError',
      );
    }
    // The first subnet of that size validates `newBits` and yields the new prefix length.
    const { prefix } = subnet(network, newBits, 0n);
    const size = 1n << BigInt(bits - prefix);
    const start = ((next + size - 1n) / size) * size;
    if (start + size > end) {
      throw new KclRuntimeError(
        `not enough address space in ${formatNetwork(network)} for a /${prefix}`,
        'ValueError',
      );
    }
    out.push(formatNetwork({ family: network.family, base: start, prefix }));
    next = start + size;
  }
  return new KclList(out);
}

function host(network: IpNetwork, hostNum: bigint): string {
  const hostCount = 1n << BigInt(bitsOf(network.family) - network.prefix);
  const index = hostNum < 0n ? hostCount + hostNum : hostNum;
  if (index < 0n || index >= hostCount) {
    throw new KclRuntimeError(`prefix /${network.prefix} has no host number ${hostNum}`, 'ValueError');
  }
  return formatIp(network.family, network.base + index);
}

function splitHostPort(address: string): KclList {
  const fail = (why: string) => new KclRuntimeError(`address ${address}: ${why}`, 'ValueError');
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw fail('missing port in address');
  let hostPart: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) throw fail("missing ']' in address");
    if (close + 1 === address.length) throw fail('missing port in address');
    if (close + 1 !== colon)
      throw fail(address[close + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    hostPart = address.slice(1, close);
    if (hostPart.includes('[') || hostPart.includes(']')) throw fail("unexpected '[' or ']' in address");
  } else {
    hostPart = address.slice(0, colon);
    if (hostPart.includes(':')) throw fail('too many colons in address');
    if (hostPart.includes('[') || hostPart.includes(']')) throw fail("unexpected '[' or ']' in address");
  }
  const port = address.slice(colon + 1);
  if (port.includes('[') || port.includes(']')) throw fail("unexpected '[' or ']' in address");
  return new KclList([hostPart, port]);
}

function joinHostPort(args: Args): string {
  const hostPart = args.str(0, 'host');
  const port = args.required(1, 'port');
  if (typeof port !== 'string' && typeof port !== 'bigint') throw args.wrongType('port', 'str | int', port);
  return hostPart.includes(':') ? `[${hostPart}]:${port}` : `${hostPart}:${port}`;
}

/** A predicate over a parsed IP; unparsable text is never any kind of address. */
const ipCheck =
  (test: (ip: IpAddress, v4: bigint | undefined) => boolean) =>
  (args: Args): boolean => {
    const ip = parseIp(args.str(0, 'ip'));
    return ip !== undefined && test(ip, toIPv4(ip));
  };

const inRange = (value: bigint, base: bigint, prefix: number, family: 4 | 6) =>
  (value & maskOf(family, prefix)) === base;

const isLoopback = (ip: IpAddress, v4: bigint | undefined) =>
  v4 !== undefined ? v4 >> 24n === 127n : ip.value === 1n;
const isMulticast = (ip: IpAddress, v4: bigint | undefined) =>
  v4 !== undefined ? v4 >> 28n === 0xen : ip.value >> 120n === 0xffn;
const isLinkLocalUnicast = (ip: IpAddress, v4: bigint | undefined) =>
  v4 !== undefined ? v4 >> 16n === 0xa9fen : ip.value >> 118n === 0x3fan;
const isUnspecified = (ip: IpAddress, v4: bigint | undefined) =>
  v4 !== undefined ? v4 === 0n : ip.value === 0n;
/** The scope nibble of an IPv6 multicast address (`ffXs::`). */
const multicastScope = (ip: IpAddress) => (ip.value >> 112n) & 0xfn;

function ipString(args: Args): string {
  const ip = args.required(0, 'ip');
  if (typeof ip === 'bigint') {
    if (ip < 0n || ip > 0xffffffffn)
      throw new KclRuntimeError(`IP_string(): ${ip} is not an IPv4 address`, 'ValueError');
    return formatIPv4(ip);
  }
  if (typeof ip !== 'string') throw args.wrongType('ip', 'str | int', ip);
  const parsed = parseIp(ip);
  return parsed ? formatAddress(parsed) : '';
}

/** The address in its IPv6 form: IPv4 becomes `::ffff:a.b.c.d`. */
function toIPv6Text(args: Args): string {
  const ip = parseIp(args.str(0, 'ip'));
  if (!ip) return '';
  return formatIPv6(ip.family === 6 ? ip.value : (V4_MAPPED_PREFIX << 32n) | ip.value);
}

export function netModule(): KclModule {
  return defineModule('net', {
    split_host_port: (a) => splitHostPort(a.str(0, 'ip_end_point')),
    join_host_port: joinHostPort,
    // Resolving the canonical DNS name would need a synchronous lookup; the host name is used as is.
    fqdn: (a) => a.str(0, 'name', '') || hostname(),
    parse_IP: (a) => {
      const ip = parseIp(a.str(0, 'ip'));
      return ip ? formatAddress(ip) : '';
    },
    IP_string: ipString,
    to_IP4: (a) => {
      const ip = parseIp(a.str(0, 'ip'));
      const v4 = ip && toIPv4(ip);
      return v4 === undefined ? '' : formatIPv4(v4);
    },
    // Go's To16 keeps printing IPv4 addresses dotted; `to_IP6` spells out the mapped form.
    to_IP16: (a) => {
      const ip = parseIp(a.str(0, 'ip'));
      return ip ? formatAddress(ip) : '';
    },
    to_IP6: toIPv6Text,
    is_IPv4: ipCheck((_, v4) => v4 !== undefined),
    is_IP: ipCheck(() => true),
    is_loopback_IP: ipCheck(isLoopback),
    is_multicast_IP: ipCheck(isMulticast),
    is_interface_local_multicast_IP: ipCheck(
      (ip, v4) => v4 === undefined && isMulticast(ip, v4) && multicastScope(ip) === 1n,
    ),
    is_link_local_multicast_IP: ipCheck((ip, v4) =>
      v4 !== undefined ? v4 >> 8n === 0xe00000n : isMulticast(ip, v4) && multicastScope(ip) === 2n,
    ),
    is_link_local_unicast_IP: ipCheck(isLinkLocalUnicast),
    is_global_unicast_IP: ipCheck(
      (ip, v4) =>
        v4 !== 0xffffffffn &&
        !isUnspecified(ip, v4) &&
        !isLoopback(ip, v4) &&
        !isMulticast(ip, v4) &&
        !isLinkLocalUnicast(ip, v4),
    ),
    is_unspecified_IP: ipCheck(isUnspecified),
    parse_CIDR: (a) => {
      const network = parseCidr(a.str(0, 'cidr'), true);
      return network
        ? KclDict.of([
            ['ip', formatIp(network.family, network.base)],
            ['mask', BigInt(network.prefix)],
          ])
        : new KclDict();
    },
    is_IP_in_CIDR: (a) => {
      const ip = parseIp(a.str(0, 'ip'));
      const network = parseCidr(a.str(1, 'cidr'), false);
      if (!ip || !network) return false;
      // Like Go's IPNet.Contains: an address usable as IPv4 only matches IPv4 networks.
      const v4 = toIPv4(ip);
      const value = v4 ?? ip.value;
      const family = v4 === undefined ? 6 : 4;
      return family === network.family && inRange(value, network.base, network.prefix, family);
    },
    CIDR_subnet: (a) =>
      formatNetwork(subnet(requireCidr(a), a.int(1, 'additional_bits'), a.int(2, 'net_num'))),
    CIDR_subnets: (a) => {
      const list = a.required(1, 'additional_bits');
      if (!isList(list)) throw a.wrongType('additional_bits', 'list', list);
      return subnets(requireCidr(a), list.items);
    },
    CIDR_host: (a) => host(requireCidr(a), a.int(1, 'host_num')),
    CIDR_netmask: (a) => {
      const network = requireCidr(a);
      return formatIp(network.family, maskOf(network.family, network.prefix));
    },
  });
}
