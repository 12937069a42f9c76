/** Hostile inputs shared by the security run (lib/evidence/security.ts), the security tests (test/security/) and the route fuzz run (test/property/). */

/** URLs that name this host, a private network or a metadata service, or are not https, each spelled its own way. */
export const HOSTILE_CALLBACK_URLS = [
  'http://example.com/dlr', // plain http
  'https://169.254.169.254/latest/meta-data/', // EC2/ECS metadata
  'https://[fd00:ec2::254]/latest/meta-data/', // EC2 metadata over IPv6 (unique-local)
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://127.0.0.1/dlr',
  'https://localhost/dlr',
  'https://api.localhost./dlr',
  'https://2130706433/dlr', // 127.0.0.1 as one decimal number
  'https://0x7f.0.0.1/dlr', // hex
  'https://0177.0.0.1/dlr', // octal
  'https://127.1/dlr', // short form
  'https://0xa9fea9fe/dlr', // 169.254.169.254 in hex
  'https://0/dlr',
  'https://10.0.0.5/dlr',
  'https://172.16.1.1/dlr',
  'https://192.168.1.1/dlr',
  'https://100.64.0.1/dlr', // carrier-grade NAT
  'https://[::1]/dlr',
  'https://[::ffff:127.0.0.1]/dlr', // IPv4-mapped
  'https://[::ffff:169.254.169.254]/dlr',
  'https://[64:ff9b::a9fe:a9fe]/dlr', // NAT64 of the metadata address
  'https://[fe80::1]/dlr', // link-local
  'https://[fc00::1]/dlr', // unique-local
  'https://[::]/dlr',
  'ftp://example.com/dlr',
  'receipts please',
];
