/**
 * The render stress scene: 1,000 vehicles, as 40 ring-road copies of 25 vehicles side by
 * side (what a batched training run's live view of all its environment copies looks like),
 * with travelling stop-and-go waves. Produced in the renderer at 30 frames per second and
 * fed through the same live store and 3D view as a simulation's frames: it measures the view
 * (instancing, per-frame placement along the road geometry, interpolation, overlays), not
 * the simulator. Every vehicle is an agent on its copy's cycle graph, so roof bars, picking
 * and the neighbourhood overlay are exercised too.
 */
import { VehicleKindCode, type EpisodeSpec, type Frame } from '../../shared/api.ts';

export const STRESS_VEHICLES = 1000;
const COPIES = 40;
const RING_LENGTH = 260;
const FRAME_RATE = 30;
const BASE_SPEED = 8;
const AMPLITUDE = 3.5;

export class StressSource {
  readonly spec: EpisodeSpec;
  private readonly position: Float64Array;
  private readonly phase: Float64Array;
  private readonly perCopy: number;
  private time = 0;
  private step = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly vehicles = STRESS_VEHICLES) {
    const copies = Math.min(COPIES, vehicles);
    this.perCopy = Math.floor(vehicles / copies);
    const n = this.perCopy * copies;
    const edges: [number, number][] = [];
    for (let c = 0; c < copies; c++) {
      for (let i = 0; i < this.perCopy; i++) edges.push([c * this.perCopy + i, c * this.perCopy + ((i + 1) % this.perCopy)]);
    }
    this.spec = {
      jobId: 'stress',
      episode: 0,
      seed: 0,
      scenario: 'ring',
      params: { vehicles: n, length: RING_LENGTH },
      nAgents: n,
      nVehicles: n,
      obsDim: 2,
      obsNames: ['speed/30', 'position/length'],
      rewardTermNames: [],
      action: { kind: 'continuous', low: -1, high: 1 },
      actionParamDim: 0,
      source: { kind: 'simulation' },
      horizon: 1_000_000,
      dt: 0.1,
      vehicleLength: 5,
      roadLength: RING_LENGTH,
      vehicleKind: new Array<number>(n).fill(VehicleKindCode.agent),
      agentVehicle: Array.from({ length: n }, (_, v) => v),
      edges,
      copies,
      scene: null,
    };
    const spacing = RING_LENGTH / this.perCopy;
    this.position = Float64Array.from({ length: n }, (_, v) => (v % this.perCopy) * spacing);
    // Each copy's wave starts at its own phase, so the copies differ.
    this.phase = Float64Array.from({ length: copies }, (_, c) => (c * 0.618) % 1);
  }

  /** Advances the synthetic traffic by `dt` seconds and returns the frame: one stop-and-go wave per ring, moving backwards. */
  next(dt = 1 / FRAME_RATE): Frame {
    const n = this.spec.nVehicles;
    const L = RING_LENGTH;
    const speed = new Float64Array(n);
    for (let v = 0; v < n; v++) {
      const copy = Math.floor(v / this.perCopy);
      const wave = Math.sin(2 * Math.PI * (this.position[v] / L - this.time / 25 + this.phase[copy]));
      speed[v] = BASE_SPEED + AMPLITUDE * wave;
      this.position[v] = (this.position[v] + speed[v] * dt) % L;
    }
    this.time += dt;
    this.step++;
    const gap = new Float64Array(n);
    const obs = new Float64Array(n * 2);
    for (let v = 0; v < n; v++) {
      const copy = Math.floor(v / this.perCopy);
      const ahead = copy * this.perCopy + (((v % this.perCopy) + 1) % this.perCopy);
      gap[v] = ((((this.position[ahead] - this.position[v]) % L) + L) % L) - this.spec.vehicleLength;
      obs[2 * v] = speed[v] / 30;
      obs[2 * v + 1] = this.position[v] / L;
    }
    return {
      jobId: 'stress',
      episode: 0,
      step: this.step,
      time: this.time,
      collided: false,
      done: false,
      episodeReturn: 0,
      stepsPerSecond: FRAME_RATE,
      position: Float64Array.from(this.position),
      speed,
      accel: new Float64Array(n),
      gap,
      action: new Float64Array(n).fill(NaN),
      flags: new Uint8Array(n),
      obs,
      reward: new Float64Array(n),
      rewardTerms: new Float64Array(0),
      value: new Float64Array(0),
      actionParams: new Float64Array(0),
      state: new Float64Array(0),
      communication: new Float64Array(0),
    };
  }

  start(onFrame: (frame: Frame) => void): void {
    this.stop();
    onFrame(this.next(0));
    this.timer = setInterval(() => onFrame(this.next()), 1000 / FRAME_RATE);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
