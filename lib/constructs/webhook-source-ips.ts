/**
 * Source-IP allowlists for the 8x8 webhook routes (issue 10, gap 1): an API Gateway resource policy that denies
 * `POST /webhooks/8x8/sms`, `POST /webhooks/8x8/sms/inbound` and `POST /handover/eightByEight` to any other source
 * address. Off by default.
 */
import type { FunctionName } from '../../functions/shared/catalogue';

/**
 * 8x8's published outbound IPs of messaging webhooks (SMS delivery receipts and inbound SMS), per platform region:
 * developer.8x8.com/connect/docs/ip-address-list ("This list was updated on: October 13th, 2025"). Check the page
 * before relying on it; 8x8 may add addresses. 8x8 Contact Center publishes no such list for Chat Gateway webhooks.
 */
export const EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS = {
  apac: ['52.220.117.120/32', '52.220.109.9/32', '18.136.13.204/32'],
  indonesia: ['34.101.157.207/32', '34.101.215.77/32', '34.34.217.244/32', '34.101.109.67/32'],
  europe: ['34.142.20.188/32', '34.142.64.178/32', '34.39.69.103/32', '34.39.114.155/32'],
  northAmerica: ['50.112.250.190/32', '100.21.170.42/32', '52.10.10.63/32'],
} as const satisfies Record<string, readonly string[]>;

export type SmsPlatformRegion = keyof typeof EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS;

/** Allowed source addresses (IPv4/IPv6, with or without a /prefix) per webhook route; a route left out stays open. */
export interface WebhookSourceIps {
  /** `POST /handover/eightByEight` (8x8 Contact Center Chat Gateway events): ask 8x8 for the addresses. */
  chatGateway?: readonly string[];
  /**
   * `POST /webhooks/8x8/sms` and `POST /webhooks/8x8/sms/inbound` (8x8 delivery receipts and inbound SMS, sent from
   * the same addresses): e.g. EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS.europe.
   */
  smsReceipt?: readonly string[];
}

/** Which catalogue functions serve the routes of each allowlist. */
export const WEBHOOK_FUNCTIONS: Record<keyof WebhookSourceIps, readonly FunctionName[]> = {
  chatGateway: ['handover-webhook'],
  smsReceipt: ['sms-receipt', 'sms-inbound-webhook'],
};

export class WebhookSourceIpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSourceIpError';
  }
}

const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(\/(3[0-2]|[12]?\d))?$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/;

/** Checks each entry is an IP address or CIDR block (a typo would otherwise lock 8x8 out or let everyone in). */
export function checkSourceIps(route: string, ips: readonly string[]): string[] {
  if (ips.length === 0) throw new WebhookSourceIpError(`The ${route} source-IP allowlist is empty`);
  for (const ip of ips) {
    if (!IPV4.test(ip) && !IPV6.test(ip)) {
      throw new WebhookSourceIpError(
        `${ip} in the ${route} source-IP allowlist is not an IP address or CIDR block`,
      );
    }
  }
  return [...ips];
}

/**
 * Reads a context value: comma-separated addresses or CIDR blocks, where `8x8:<region>` stands for 8x8's published
 * SMS webhook addresses of that region (apac, indonesia, europe, northAmerica).
 */
export function parseSourceIps(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .flatMap((entry) => {
      if (!entry.startsWith('8x8:')) return [entry];
      const region = entry.slice(4);
      if (!Object.hasOwn(EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS, region)) {
        throw new WebhookSourceIpError(
          `${entry}: 8x8 publishes SMS webhook addresses for ${Object.keys(EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS).join(', ')}`,
        );
      }
      return [...EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS[region as SmsPlatformRegion]];
    });
}
