import { clientKey } from './client-address';

describe(clientKey.name, () => {
  it.each([
    ['an IPv4 address, as is', '203.0.113.5', '203.0.113.5'],
    ['an IPv4-mapped IPv6 address, as its IPv4 address', '::ffff:203.0.113.5', '203.0.113.5'],
    ['an IPv6 address, by its /64', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['a compressed IPv6 address, by its /64', '2001:DB8:0:2::7', '2001:db8:0:2::/64'],
    ['a compression inside the /64', '2001:db8::1', '2001:db8:0:0::/64'],
    ['leading zeros', '2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['a zone index', 'fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['an embedded IPv4 tail', '64:ff9b:1:2::192.0.2.1', '64:ff9b:1:2::/64'],
    ['the IPv6 loopback', '::1', '0:0:0:0::/64'],
    ['no address', undefined, 'unknown'],
  ])('should key %s', (_, ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it('should keep two hosts of one /64 together and two /64s apart', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
  });
});
