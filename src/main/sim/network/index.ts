/** Road networks for routing: built-in generated ones by name, or TNTP files by path. */
import { builtinNetwork, BUILTIN_NETWORKS, isBuiltinNetwork } from './builtin.ts';
import { NetworkError, type RoadNetwork } from './roadNetwork.ts';
import { loadTntp } from './tntp.ts';

/** What a `network` parameter or option accepts, for messages and help. */
export const NETWORK_CHOICES = `${BUILTIN_NETWORKS.join(', ')} or a TNTP file <name>_net.tntp`;

/** A built-in network by name, else the TNTP network at that path (trips and node files beside it). */
export function loadNetwork(nameOrPath: string): RoadNetwork {
  if (isBuiltinNetwork(nameOrPath)) return builtinNetwork(nameOrPath);
  if (!nameOrPath.endsWith('_net.tntp')) throw new NetworkError(`${JSON.stringify(nameOrPath)} is not allowed; expected ${NETWORK_CHOICES}`);
  return loadTntp(nameOrPath);
}

export { assign, type AssignmentResult } from './assignment.ts';
export { NetworkError, type RoadNetwork } from './roadNetwork.ts';
