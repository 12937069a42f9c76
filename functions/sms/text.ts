/**
 * SMS text sizing as 8x8 does it: GSM 03.38 7-bit (extension characters take two septets) or UCS-2 (UTF-16
 * code units). 8x8 sends texts past 10 parts truncated, so the API refuses them instead.
 */

export type RequestedEncoding = 'AUTO' | 'GSM7' | 'UCS2';
export type ActualEncoding = 'GSM7' | 'UCS2';

/** GSM 03.38 basic character set (the escape slot excluded). */
const GSM7_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
/** GSM 03.38 extension table: each is sent as ESC + character, so it counts two septets. */
const GSM7_EXTENSION = new Set(Array.from('\f^{}\\[~]|€'));

export const SMS_MAX_PARTS = 10;
/** Per-part capacity: a single SMS holds 160 septets / 70 units; concatenated parts lose 7 / 3 to the UDH. */
const CAPACITY = {
  GSM7: { single: 160, multi: 153 },
  UCS2: { single: 70, multi: 67 },
} as const;

export const MAX_UNITS = {
  GSM7: CAPACITY.GSM7.multi * SMS_MAX_PARTS, // 1530 septets
  UCS2: CAPACITY.UCS2.multi * SMS_MAX_PARTS, // 670 UTF-16 code units
} as const;

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return false;
  return true;
}

/** Septets of a GSM7 text. Characters outside the alphabet (replaced by the carrier when GSM7 is forced) count one. */
export function gsm7Septets(text: string): number {
  let septets = 0;
  for (const ch of text) septets += GSM7_EXTENSION.has(ch) ? 2 : 1;
  return septets;
}

export interface TextSize {
  encoding: ActualEncoding;
  /** Septets (GSM7) or UTF-16 code units (UCS2). */
  units: number;
  parts: number;
}

/** The encoding 8x8 would use (AUTO picks GSM7 when every character fits) and how many parts the text needs. */
export function measureText(text: string, requested: RequestedEncoding): TextSize {
  const encoding: ActualEncoding = requested === 'AUTO' ? (isGsm7(text) ? 'GSM7' : 'UCS2') : requested;
  const units = encoding === 'GSM7' ? gsm7Septets(text) : text.length;
  const capacity = CAPACITY[encoding];
  const parts = units <= capacity.single ? 1 : Math.ceil(units / capacity.multi);
  return { encoding, units, parts };
}
