/** A Cognigy session as a flow sends it to POST /handover (`cognigy` field), unique per call. */
import { randomUUID } from 'node:crypto';

export interface Session {
  userId: string;
  sessionId: string;
  URLToken: string;
}

export const newSession = (name: string): Session => ({
  userId: `user-${name}`,
  sessionId: `session-${name}-${randomUUID()}`,
  URLToken: `url-token-${name}`,
});
