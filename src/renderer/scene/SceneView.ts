/**
 * The live 3D view (three.js): the scenario's road built from the shared geometry, the
 * vehicles (instanced), cameras (orbit, top, follow-a-vehicle), picking, and smooth motion
 * between decimated frames. It knows nothing of stores or the api: the Viewport component
 * feeds it episodes, frames and highlights, and listens for picks.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { figureEightPoint, ringPoint, straightPoint, type RoadPoint } from '../../shared/geometry.ts';
import { FrameFlag } from '../../shared/api.ts';
import type { ScenarioId } from '../../shared/scenarios.ts';
import { COLORS } from './colors.ts';
import { FrameInterpolator, platoonCentre } from './interpolation.ts';
import { fitDistance, type CameraMode, type Vec3 } from './cameraModes.ts';
import { VehiclePicking } from './picking.ts';
import { describeGl, FrameTimes, type RenderStats } from './renderStats.ts';
import { layoutRoadCopies } from './roadCopies.ts';
import { buildRoad, STRAIGHT_MARK_PERIOD, type RoadScene } from './roads.ts';
import { VehicleLayer, type Highlight } from './vehicles.ts';

export interface SceneEpisode {
  scenario: ScenarioId;
  nVehicles: number;
  roadLength: number | null;
  vehicleLength: number;
  vehicleKind: readonly number[];
  /** The vehicle the follow camera chases when none is selected. */
  defaultFollow: number;
  /** Environment copies drawn side by side (a grid of roads); vehicles are split evenly between them. */
  copies?: number;
}

export interface SceneFrame {
  position: ArrayLike<number>;
  speed: ArrayLike<number>;
  /**
   * FrameFlag bits per vehicle, the masks the marks are drawn from: FrameFlag.collision (a red
   * marker), FrameFlag.disturbed (a pulsing ring and diamond). Live frames carry them as the
   * simulation sets them; a replay sets them from what it stored per vehicle and step.
   */
  flags: ArrayLike<number>;
}

const GRID_CELL = 20;

export interface SceneViewOptions {
  /** A fixed drawing size in pixels, one per CSS pixel, whatever the container (the video export's offscreen view). */
  size?: { width: number; height: number };
}

/** The orbit camera's viewing direction onto a loop scene: from above and to the south, as the view has always looked. */
const ORBIT_BACK = new THREE.Vector3(0, 1.55, 2.05).normalize();

export class SceneView {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly glRenderer: string;
  private readonly software: boolean;
  private readonly scene = new THREE.Scene();
  private readonly perspective = new THREE.PerspectiveCamera(45, 1, 0.5, 30000);
  private readonly ortho = new THREE.OrthographicCamera(-1, 1, 1, -1, 0.5, 30000);
  private readonly orbit: OrbitControls;
  private readonly topControls: OrbitControls;
  private readonly resizeObserver: ResizeObserver;
  private grid: THREE.GridHelper;
  private readonly ground: THREE.Mesh;
  private readonly interpolator = new FrameInterpolator();
  private road: RoadScene | null = null;
  private vehicles: VehicleLayer | null = null;
  private episode: SceneEpisode | null = null;
  private frame: SceneFrame | null = null;
  private display = new Float64Array(0);
  private mode: CameraMode = 'orbit';
  private followVehicle: number | null = null;
  private speedScale = 30;
  private highlight: Highlight = { selected: null, policy: [], critic: [], edges: [] };
  /** Per environment copy: the (x, z) offset of its road in the scene. */
  private copyOffsets = new Float32Array(2);
  private perCopy = 1;
  /** CACC: the view's origin follows the platoon (floating origin), in road metres. */
  private origin = 0;
  private sceneRadius = 100;
  private dirty = true;
  private width = 1;
  private height = 1;
  private running = false;
  private readonly times = new FrameTimes();
  private readonly point: RoadPoint = { x: 0, y: 0, angleDeg: 0 };
  private readonly picking: VehiclePicking;
  private afterRender: (() => void) | null = null;
  /** Set once the user moves a camera: until then a resize re-frames the scene for the new aspect ratio. */
  private userMoved = false;
  private readonly fixedSize: { width: number; height: number } | null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly container: HTMLElement,
    options: SceneViewOptions = {},
  ) {
    this.fixedSize = options.size ?? null;
    const gl = describeGl();
    this.glRenderer = gl.renderer;
    this.software = gl.software;
    // Software rasterizers (VMs, remote desktops, headless browsers) spend most of a frame on
    // multisampling and extra pixels: draw them plain, at one pixel per CSS pixel.
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: !gl.software, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(gl.software || this.fixedSize ? 1 : Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(COLORS.background);

    this.scene.add(new THREE.HemisphereLight('#dfe8f5', '#1b2027', 1.6));
    const sun = new THREE.DirectionalLight('#ffffff', 1.7);
    sun.position.set(-0.5, 1, 0.35);
    this.scene.add(sun);

    this.ground = new THREE.Mesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshLambertMaterial({ color: COLORS.ground }));
    this.ground.rotation.x = -Math.PI / 2;
    this.ground.position.y = -0.02;
    this.scene.add(this.ground);
    this.grid = new THREE.GridHelper(1, 1);
    this.grid.visible = false;
    this.ground.visible = false;
    this.scene.add(this.grid);

    this.ortho.up.set(0, 0, -1);
    this.orbit = new OrbitControls(this.perspective, canvas);
    this.orbit.enableDamping = true;
    this.orbit.dampingFactor = 0.12;
    this.orbit.maxPolarAngle = Math.PI * 0.48;
    this.orbit.addEventListener('change', () => (this.dirty = true));
    this.topControls = new OrbitControls(this.ortho, canvas);
    this.topControls.enableRotate = false;
    this.topControls.screenSpacePanning = true;
    this.topControls.enableDamping = true;
    this.topControls.addEventListener('change', () => (this.dirty = true));
    this.topControls.enabled = false;
    for (const controls of [this.orbit, this.topControls]) controls.addEventListener('start', () => (this.userMoved = true));

    this.picking = new VehiclePicking(
      canvas,
      () => this.camera(),
      () => this.vehicles,
      () => this.frame !== null,
    );
    this.resizeObserver = new ResizeObserver(() => this.resize());
    if (!this.fixedSize) this.resizeObserver.observe(container);
    this.resize();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.renderer.setAnimationLoop((time) => this.tick(time));
  }

  dispose(): void {
    this.running = false;
    this.renderer.setAnimationLoop(null);
    this.resizeObserver.disconnect();
    this.picking.dispose();
    this.orbit.dispose();
    this.topControls.dispose();
    this.clearEpisode();
    this.ground.geometry.dispose();
    (this.ground.material as THREE.Material).dispose();
    this.grid.dispose();
    this.renderer.dispose();
    // Browsers keep only a few WebGL contexts alive: hand this one back now, not at garbage collection (each video export makes one).
    this.renderer.forceContextLoss();
  }

  onPick(listener: (vehicle: number | null) => void): void {
    this.picking.onPick(listener);
  }

  /** Called after every drawn frame (labels that follow vehicles reposition then). */
  onAfterRender(listener: () => void): void {
    this.afterRender = listener;
  }

  /** A new episode: builds its road and vehicles (kept when the scene is the same). */
  setEpisode(episode: SceneEpisode): void {
    const same =
      this.episode !== null &&
      this.episode.scenario === episode.scenario &&
      this.episode.nVehicles === episode.nVehicles &&
      this.episode.roadLength === episode.roadLength &&
      (this.episode.copies ?? 1) === (episode.copies ?? 1) &&
      this.episode.vehicleKind.join() === episode.vehicleKind.join();
    this.episode = episode;
    this.frame = null;
    this.interpolator.reset(episode.nVehicles, episode.roadLength);
    this.display = new Float64Array(episode.nVehicles);
    if (same) return;
    this.clearEpisode();
    this.episode = episode;
    this.road = buildRoad(episode.scenario, episode.roadLength);
    const copies = Math.max(1, Math.floor(episode.copies ?? 1));
    this.perCopy = Math.max(1, Math.floor(episode.nVehicles / copies));
    this.copyOffsets = layoutRoadCopies(this.road, copies);
    this.scene.add(this.road.group);
    this.vehicles = new VehicleLayer(episode.nVehicles, episode.vehicleKind);
    this.vehicles.setSpeedScale(this.speedScale);
    this.vehicles.setResolution(this.width, this.height);
    this.vehicles.setHighlight(this.highlight);
    this.scene.add(this.vehicles.group);
    this.sceneRadius = this.road.radius;
    this.layoutGround();
    this.origin = 0;
    this.fitCameras();
    this.dirty = true;
  }

  clearEpisode(): void {
    if (this.road) {
      this.scene.remove(this.road.group);
      this.road.dispose();
      this.road = null;
    }
    if (this.vehicles) {
      this.scene.remove(this.vehicles.group);
      this.vehicles.dispose();
      this.vehicles = null;
    }
    this.episode = null;
    this.frame = null;
    this.dirty = true;
  }

  /** A new frame to move to. `snap` jumps there (first frame of an episode). */
  pushFrame(frame: SceneFrame, snap = false): void {
    if (!this.episode || !this.vehicles || frame.position.length !== this.episode.nVehicles) return;
    const now = performance.now();
    const first = this.frame === null;
    this.frame = frame;
    this.interpolator.push(frame.position, now, snap || first);
    this.vehicles.updateColors(frame.speed, this.speedScale);
    // A jump (first frame, a replay's scrub) re-centres the open road's origin at once instead of gliding there.
    if ((first || snap) && this.isStraight()) this.origin = platoonCentre(frame.position);
    this.dirty = true;
  }

  setHighlight(highlight: Highlight): void {
    this.highlight = highlight;
    this.vehicles?.setHighlight(highlight);
    this.dirty = true;
  }

  setSpeedScale(max: number): void {
    this.speedScale = max;
    this.vehicles?.setSpeedScale(max);
    if (this.frame) this.vehicles?.updateColors(this.frame.speed, max);
    this.dirty = true;
  }

  setCameraMode(mode: CameraMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.orbit.enabled = mode === 'orbit';
    this.topControls.enabled = mode === 'top';
    if (mode === 'orbit') this.fitOrbit();
    if (mode === 'top') this.fitTop();
    this.dirty = true;
  }

  /** The vehicle the follow camera chases (null: the default one). */
  setFollow(vehicle: number | null): void {
    this.followVehicle = vehicle;
    this.dirty = true;
  }

  /** Draws the current frame now, outside the animation loop (the video export draws one per output frame, then reads the canvas). */
  renderNow(): void {
    this.dirty = true;
    this.tick(performance.now());
  }

  /** Re-frames the current camera on the whole scene. */
  resetCamera(): void {
    if (this.mode === 'orbit') this.fitOrbit();
    if (this.mode === 'top') this.fitTop();
    this.dirty = true;
  }

  stats(): RenderStats {
    return this.times.stats({
      vehicles: this.episode?.nVehicles ?? 0,
      drawCalls: this.renderer.info.render.calls,
      glRenderer: this.glRenderer,
      software: this.software,
    });
  }

  /** The vehicles marked disturbed in the frame on screen. */
  disturbedVehicles(): number[] {
    return [...(this.vehicles?.disturbed ?? [])];
  }

  /** Where vehicle `v` is drawn, in client (page) coordinates; null when off screen or unknown. */
  projectVehicle(v: number): { x: number; y: number } | null {
    return this.picking.project(v);
  }

  /** Keeps an HTML label (positioned inside the container) just above vehicle v; hidden while v is off screen. */
  placeLabel(element: HTMLElement, v: number): void {
    const at = this.projectVehicle(v);
    if (!at) {
      element.style.visibility = 'hidden';
      return;
    }
    const rect = this.container.getBoundingClientRect();
    element.style.visibility = 'visible';
    element.style.transform = `translate(${Math.round(at.x - rect.left)}px, ${Math.round(at.y - rect.top - 34)}px) translateX(-50%)`;
  }

  // -------------------------------------------------------------------------------------

  private camera(): THREE.Camera {
    return this.mode === 'top' ? this.ortho : this.perspective;
  }

  private isStraight(): boolean {
    return this.episode !== null && this.episode.roadLength === null;
  }

  private layoutGround(): void {
    const size = Math.max(600, this.sceneRadius * 4);
    this.ground.scale.set(size * 2, size * 2, 1);
    this.scene.remove(this.grid);
    this.grid.dispose();
    const cell = this.sceneRadius > 1000 ? 100 : GRID_CELL;
    const divisions = Math.round((size * 2) / cell);
    const grid = new THREE.GridHelper(divisions * cell, divisions, COLORS.gridMajor, COLORS.gridMinor);
    grid.position.y = -0.01;
    this.grid = grid;
    this.ground.visible = true;
    this.scene.add(grid);
    // Fog only hides the far side of very large scenes (the stress ring).
    this.scene.fog = null;
  }

  private fitCameras(): void {
    this.fitOrbit();
    this.fitTop();
  }

  /** Orbit target and distance at which the whole road is in view at the viewport's aspect ratio. */
  private fitLoop(): void {
    const r = this.sceneRadius;
    const box = this.road ? new THREE.Box3().setFromObject(this.road.group) : new THREE.Box3(new THREE.Vector3(-r, 0, -r), new THREE.Vector3(r, 0, r));
    const centre = box.getCenter(new THREE.Vector3()).setY(0);
    const corners: Vec3[] = [];
    for (const x of [box.min.x, box.max.x]) for (const y of [box.min.y, box.max.y]) for (const z of [box.min.z, box.max.z]) corners.push([x - centre.x, y, z - centre.z]);
    const right = new THREE.Vector3(0, 1, 0).cross(ORBIT_BACK).normalize();
    const up = ORBIT_BACK.clone().cross(right);
    const frame = { right: right.toArray(), up: up.toArray(), back: ORBIT_BACK.toArray() };
    const distance = fitDistance(corners, frame, this.perspective.fov, this.perspective.aspect);
    this.orbit.target.copy(centre);
    this.perspective.position.copy(centre).addScaledVector(ORBIT_BACK, distance);
  }

  private fitOrbit(): void {
    const r = this.sceneRadius;
    if (this.copyOffsets.length > 2) {
      // Several copies: the whole grid, every vehicle on screen.
      this.orbit.target.set(0, 0, r * 0.05);
      this.perspective.position.set(0, r * 1.55, r * 1.35);
    } else if (this.isStraight()) {
      // From behind the tail, looking up the road: the whole platoon and its leader ahead.
      this.orbit.target.set(25, 0, 0);
      this.perspective.position.set(-175, 62, 95);
    } else {
      this.fitLoop();
    }
    this.perspective.updateProjectionMatrix();
    this.orbit.update();
    this.userMoved = false;
  }

  private fitTop(): void {
    const r = this.isStraight() ? 130 : this.sceneRadius * 1.08;
    this.ortho.position.set(0, Math.max(300, r * 3), 0);
    this.topControls.target.set(0, 0, 0);
    this.ortho.zoom = 1;
    this.updateOrtho(r);
    this.topControls.update();
    this.userMoved = false;
  }

  private updateOrtho(radius: number): void {
    const aspect = this.width / this.height;
    const halfH = aspect >= 1 ? radius : radius / aspect;
    const halfW = halfH * aspect;
    this.ortho.left = -halfW;
    this.ortho.right = halfW;
    this.ortho.top = halfH;
    this.ortho.bottom = -halfH;
    this.ortho.updateProjectionMatrix();
  }

  private resize(): void {
    const rect = this.fixedSize ?? this.container.getBoundingClientRect();
    this.width = Math.max(1, Math.floor(rect.width));
    this.height = Math.max(1, Math.floor(rect.height));
    this.renderer.setSize(this.width, this.height, false);
    this.perspective.aspect = this.width / this.height;
    this.perspective.updateProjectionMatrix();
    const halfH = (this.ortho.top - this.ortho.bottom) / 2;
    if (halfH > 0) {
      const aspect = this.width / this.height;
      this.ortho.left = -halfH * aspect;
      this.ortho.right = halfH * aspect;
      this.ortho.updateProjectionMatrix();
    }
    this.vehicles?.setResolution(this.width, this.height);
    if (this.episode && !this.userMoved) this.fitCameras();
    this.dirty = true;
  }

  /** Road point of the centre of a vehicle whose front is at `position`. */
  private place(position: number, out: RoadPoint): RoadPoint {
    const episode = this.episode!;
    const centre = position - episode.vehicleLength / 2;
    switch (episode.scenario) {
      case 'ring':
        return ringPoint(centre, episode.roadLength ?? 1, out);
      case 'figure-eight':
        return figureEightPoint(centre, out);
      default:
        return straightPoint(centre - this.origin, out);
    }
  }

  private tick(time: number): void {
    this.times.tick(time);
    const now = performance.now();
    const vehicles = this.vehicles;
    const moving = this.interpolator.moving(now);
    // Collision and disturbance marks move on their own (bob, pulse), even while the vehicles stand still.
    const marks = FrameFlag.collision | FrameFlag.disturbed;
    const animated = this.frame !== null && Array.prototype.some.call(this.frame.flags, (f: number) => (f & marks) !== 0);
    if (vehicles && this.frame && (moving || this.dirty || animated || this.mode === 'follow')) {
      this.interpolator.sample(now, this.display);
      if (this.isStraight()) {
        // The origin glides after the platoon; the road's markings scroll by the same amount.
        const target = platoonCentre(this.display);
        this.origin += (target - this.origin) * 0.2;
        if (this.road?.scrolling) this.road.scrolling.position.x = -(((this.origin % STRAIGHT_MARK_PERIOD) + STRAIGHT_MARK_PERIOD) % STRAIGHT_MARK_PERIOD);
        this.grid.position.x = -(((this.origin % GRID_CELL) + GRID_CELL) % GRID_CELL);
      }
      const { centres, headings } = vehicles;
      const p = this.point;
      const offsets = this.copyOffsets;
      const copies = offsets.length / 2;
      for (let v = 0; v < this.display.length; v++) {
        this.place(this.display[v], p);
        const copy = copies > 1 ? Math.min(copies - 1, Math.floor(v / this.perCopy)) : 0;
        centres[2 * v] = p.x + offsets[2 * copy];
        centres[2 * v + 1] = -p.y + offsets[2 * copy + 1];
        headings[v] = ((90 - p.angleDeg) * Math.PI) / 180;
      }
      vehicles.updateTransforms(this.frame.flags, now);
      this.dirty = true;
    }
    if (this.mode === 'follow') this.updateFollow();
    if (this.mode === 'orbit') this.orbit.update();
    if (this.mode === 'top') this.topControls.update();
    if (!this.dirty) return;
    this.dirty = false;
    const drawStart = performance.now();
    const fog = this.scene.fog;
    if (this.mode === 'top') this.scene.fog = null;
    this.renderer.render(this.scene, this.camera());
    this.scene.fog = fog;
    this.times.frame(now, drawStart, performance.now());
    this.afterRender?.();
  }

  private updateFollow(): void {
    const vehicles = this.vehicles;
    const episode = this.episode;
    if (!vehicles || !episode) return;
    const v = this.followVehicle ?? episode.defaultFollow;
    if (v < 0 || v >= vehicles.count) return;
    const x = vehicles.centres[2 * v];
    const z = vehicles.centres[2 * v + 1];
    const heading = vehicles.headings[v];
    const dx = Math.cos(heading);
    const dz = -Math.sin(heading);
    const desired = new THREE.Vector3(x - dx * 24, 10, z - dz * 24);
    const look = new THREE.Vector3(x + dx * 14, 1.5, z + dz * 14);
    const camera = this.perspective;
    if (camera.position.distanceTo(desired) > 150) camera.position.copy(desired);
    else camera.position.lerp(desired, 0.12);
    camera.lookAt(look);
    this.dirty = true;
  }
}
