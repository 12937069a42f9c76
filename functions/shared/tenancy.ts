/**
 * Tenancy between Cognigy projects: each project calls with its own API key, and every SMS and conversation record
 * is owned by the key that created it (its apiKeyId, never the key itself). Another key's request finds nothing:
 * GET /sms/{id}, GET /handover/{id}, …/messages and …/end answer 404 as for an unknown id, so ids cannot be probed.
 */

export interface Tenancy {
  /** apiKeyId of the caller (ApiRequest.callerId); undefined only when no key was involved. */
  callerId?: string;
  /** SETTINGS.unownedRecordsOwner: the key that owns records written before tenancy existed. */
  unownedRecordsOwner?: string;
}

/** The caller's tenancy: its apiKeyId (ApiRequest.callerId) and the owner of records from before tenancy. */
export function tenancyOf(
  request: { callerId?: string },
  settings: { unownedRecordsOwner?: string },
): Tenancy {
  return {
    ...(request.callerId ? { callerId: request.callerId } : {}),
    ...(settings.unownedRecordsOwner ? { unownedRecordsOwner: settings.unownedRecordsOwner } : {}),
  };
}

/** The owner to write on a new record: the caller's apiKeyId, when there is one. */
export function ownerFor(tenancy: Tenancy): { owner: string } | Record<string, never> {
  return tenancy.callerId ? { owner: tenancy.callerId } : {};
}

/**
 * Whether the caller may see a record. A record without an owner predates tenancy: it belongs to
 * UNOWNED_RECORDS_OWNER when that is set (the stack sets the default key's id), else it is visible to every key.
 */
export function visibleTo(recordOwner: string | undefined, tenancy: Tenancy): boolean {
  const owner = recordOwner ?? tenancy.unownedRecordsOwner;
  if (owner === undefined) return true;
  return owner === tenancy.callerId;
}

/**
 * A caller's own namespace for keys it chooses (clientMessageId): the default key (the owner of unowned records)
 * keeps the bare key, so idempotency records written before tenancy still match; every other key gets its apiKeyId
 * and a NUL as prefix (NUL is a control character, which clientMessageId validation refuses per issue 10.6).
 */
export function scopedKey(key: string, tenancy: Tenancy): string {
  const { callerId, unownedRecordsOwner } = tenancy;
  if (callerId === undefined || callerId === unownedRecordsOwner) return key;
  return `${callerId}\u0000${key}`;
}
