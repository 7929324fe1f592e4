/** The inspectors' line for an episode drawn as a scene (src/shared/scene.ts). */
import type { SceneSpec } from '../../shared/scene.ts';

/** What the inspectors say for an episode drawn as a scene: it has no vehicles to pick. */
export function sceneInspectorNote(scene: SceneSpec): string {
  return scene.kind === 'network'
    ? 'No vehicles in this scenario: click a node in the network for its team (mass per destination, split ratios, the critic’s values).'
    : 'No vehicles in this scenario: the view shows every agent’s state at this step.';
}
