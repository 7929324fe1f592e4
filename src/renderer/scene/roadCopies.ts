/**
 * Several environment copies on screen at once (a batched run's copies side by side): the
 * road's copies laid out on a grid, each part of the road one instanced mesh over the copies
 * (a draw call per part, not per copy).
 */
import * as THREE from 'three';
import type { RoadScene } from './roads.ts';

/**
 * Lays `copies` copies of `road` out on a grid around the origin (one copy: left where it
 * is) and widens `road.radius` to the whole grid. Returns each copy's (x, z) offset.
 */
export function layoutRoadCopies(road: RoadScene, copies: number): Float32Array<ArrayBuffer> {
  const offsets = new Float32Array(copies * 2);
  if (copies === 1) return offsets;
  const cell = 2 * road.radius + 16;
  const columns = Math.ceil(Math.sqrt(copies * 1.6));
  const rows = Math.ceil(copies / columns);
  for (let c = 0; c < copies; c++) {
    offsets[2 * c] = ((c % columns) - (columns - 1) / 2) * cell;
    offsets[2 * c + 1] = (Math.floor(c / columns) - (rows - 1) / 2) * cell;
  }
  const matrix = new THREE.Matrix4();
  const meshes: THREE.Mesh[] = [];
  road.group.traverse((object) => {
    if (object instanceof THREE.Mesh && !(object instanceof THREE.InstancedMesh)) meshes.push(object);
  });
  for (const mesh of meshes) {
    mesh.updateWorldMatrix(true, false);
    const instanced = new THREE.InstancedMesh(mesh.geometry, mesh.material, copies);
    for (let c = 0; c < copies; c++) {
      matrix.makeTranslation(offsets[2 * c], 0, offsets[2 * c + 1]).multiply(mesh.matrixWorld);
      instanced.setMatrixAt(c, matrix);
    }
    instanced.renderOrder = mesh.renderOrder;
    instanced.frustumCulled = false;
    mesh.removeFromParent();
    road.group.add(instanced);
  }
  road.radius = Math.hypot((columns * cell) / 2, (rows * cell) / 2);
  return offsets;
}
