/**
 * Checks the requests the Chat Gateway simulator logged (what the stack actually sent over HTTP) against the
 * official 8x8 OAS, independently of the simulator's own answers.
 */
import type { SimRequest } from '../../lib/simulators/chat-gateway';
import {
  CHAT_GATEWAY_OPERATIONS,
  validateChatGatewayRequest,
  type ChatGatewayOperation,
} from '../../lib/simulators/contract/chat-gateway-schema';

export interface ContractViolation {
  method: string;
  path: string;
  operation?: string;
  problems: string[];
}

/**
 * Every logged request that is not a Chat Gateway operation with a body valid under the OAS, sent with the right
 * method and the expected X-8x8-Tenant. Requests whose body the operation does not need (GET) are checked for
 * method and tenant only.
 */
export function oasViolations(requests: readonly SimRequest[], expectedTenant: string): ContractViolation[] {
  const violations: ContractViolation[] = [];
  for (const request of requests) {
    const problems: string[] = [];
    const operation = request.operation as ChatGatewayOperation | 'getConversation' | undefined;
    if (!operation) problems.push('not a Chat Gateway operation');
    else if (operation !== 'getConversation') {
      const spec = CHAT_GATEWAY_OPERATIONS[operation];
      if (request.method.toLowerCase() !== spec.method)
        problems.push(`method ${request.method}, OAS ${spec.method}`);
      const result = validateChatGatewayRequest(operation, request.body ?? null);
      if (!result.valid) problems.push(...result.issues.map((i) => `${i.path || '/'}: ${i.message}`));
    }
    if (request.tenantHeader !== expectedTenant)
      problems.push(`X-8x8-Tenant ${String(request.tenantHeader)}`);
    if (problems.length > 0) {
      violations.push({ method: request.method, path: request.path, operation: request.operation, problems });
    }
  }
  return violations;
}
