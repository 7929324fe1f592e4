/**
 * Picking in the 3D view: which vehicle a click lands on (a click, not the end of a camera
 * drag), and where a vehicle is drawn on the page (labels, tests).
 */
import * as THREE from 'three';
import type { VehicleLayer } from './vehicles.ts';

/** Pointer travel (px) beyond which a press-and-release is a drag of the camera, not a pick. */
const CLICK_SLOP = 5;
/** A click this close (px) to a drawn vehicle picks it when the ray misses every body. */
const NEAR_PX = 18;

export class VehiclePicking {
  private readonly raycaster = new THREE.Raycaster();
  private pointerDown: { x: number; y: number } | null = null;
  private listener: ((vehicle: number | null) => void) | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly camera: () => THREE.Camera,
    private readonly vehicles: () => VehicleLayer | null,
    /** Whether the vehicles are placed yet (a frame has come): nothing is picked before. */
    private readonly placed: () => boolean,
  ) {
    canvas.addEventListener('pointerdown', this.onPointerDown);
    canvas.addEventListener('pointerup', this.onPointerUp);
  }

  onPick(listener: (vehicle: number | null) => void): void {
    this.listener = listener;
  }

  dispose(): void {
    this.canvas.removeEventListener('pointerdown', this.onPointerDown);
    this.canvas.removeEventListener('pointerup', this.onPointerUp);
  }

  /** Where vehicle `v` is drawn, in client (page) coordinates; null when off screen or unknown. */
  project(v: number): { x: number; y: number } | null {
    const vehicles = this.vehicles();
    if (!vehicles || v < 0 || v >= vehicles.count) return null;
    const p = new THREE.Vector3(vehicles.centres[2 * v], 1.2, vehicles.centres[2 * v + 1]).project(this.camera());
    if (p.z < -1 || p.z > 1 || Math.abs(p.x) > 1 || Math.abs(p.y) > 1) return null;
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  /** The vehicle under a client point: the ray's hit, else the nearest drawn vehicle within a few pixels. */
  pick(clientX: number, clientY: number): number | null {
    const vehicles = this.vehicles();
    if (!vehicles || !this.placed()) return null;
    const rect = this.canvas.getBoundingClientRect();
    const camera = this.camera();
    const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, camera);
    const hits = this.raycaster.intersectObject(vehicles.bodies, false);
    if (hits.length > 0 && hits[0].instanceId !== undefined) return hits[0].instanceId;
    let best: number | null = null;
    let bestDistance = NEAR_PX;
    const p = new THREE.Vector3();
    for (let v = 0; v < vehicles.count; v++) {
      p.set(vehicles.centres[2 * v], 1.2, vehicles.centres[2 * v + 1]).project(camera);
      if (p.z < -1 || p.z > 1) continue;
      const x = rect.left + ((p.x + 1) / 2) * rect.width;
      const y = rect.top + ((1 - p.y) / 2) * rect.height;
      const d = Math.hypot(x - clientX, y - clientY);
      if (d < bestDistance) {
        bestDistance = d;
        best = v;
      }
    }
    return best;
  }

  private readonly onPointerDown = (event: PointerEvent): void => {
    this.pointerDown = { x: event.clientX, y: event.clientY };
  };

  private readonly onPointerUp = (event: PointerEvent): void => {
    const down = this.pointerDown;
    this.pointerDown = null;
    if (!down || event.button !== 0) return;
    if (Math.hypot(event.clientX - down.x, event.clientY - down.y) > CLICK_SLOP) return;
    this.listener?.(this.pick(event.clientX, event.clientY));
  };
}
