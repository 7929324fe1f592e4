/**
 * Episode statistics that traffic users read, accumulated step by step from one environment
 * copy without allocation: the return (sum over steps and agents of the raw reward), mean
 * speed, speed spread across vehicles, collisions, and for CACC the headway and speed
 * errors against the targets (20 m, 15 m/s).
 *
 * Vehicles that are not on the road under control of the simulation (CACC's exogenous
 * leader) are left out of the speed statistics.
 */
import { VehicleKind, type BatchedEnv } from './env.ts';
import { routingMetrics, RoutingEnv, type RoutingMetrics } from './routing.ts';

export interface EpisodeMetrics {
  steps: number;
  return: number;
  meanSpeed: number;
  /** Mean over steps of the standard deviation of speeds across vehicles. */
  speedSpread: number;
  collision: boolean;
  minGap: number;
  /** CACC only: root mean square of (headway - 20 m) and (speed - 15 m/s) over steps and agents. */
  headwayRmse?: number;
  speedRmse?: number;
  /** network-routing only: the steady-state total system travel time and its ratio to the network's UE and SO values. */
  routing?: RoutingMetrics;
}

export class EpisodeStats {
  private steps = 0;
  private returnSum = 0;
  private speedSum = 0;
  private spreadSum = 0;
  private samples = 0;
  private minGap = Infinity;
  private headwaySq = 0;
  private speedSq = 0;
  private readonly caccTargets: boolean;

  constructor(
    private readonly env: BatchedEnv,
    private readonly copy = 0,
  ) {
    this.caccTargets = env.spec.scenario.startsWith('cacc');
  }

  /** Adds the step the environment just took. */
  add(): void {
    const { env, copy } = this;
    const { nAgents, nVehicles, vehicleKind } = env.spec;
    for (let i = 0; i < nAgents; i++) this.returnSum += env.rawReward[copy * nAgents + i];
    let sum = 0;
    let sumSq = 0;
    let count = 0;
    const v0 = copy * nVehicles;
    for (let v = 0; v < nVehicles; v++) {
      if (vehicleKind[v] === VehicleKind.leader) continue;
      const speed = env.speed[v0 + v];
      sum += speed;
      sumSq += speed * speed;
      count++;
      const gap = env.gap[v0 + v];
      if (gap < this.minGap) this.minGap = gap;
      if (this.caccTargets) {
        this.headwaySq += (gap - 20) ** 2;
        this.speedSq += (speed - 15) ** 2;
      }
    }
    this.steps++;
    // Scenarios without vehicles on roads (mabc, demand-response; routing moves mass over links) have no speeds to count.
    if (count === 0) return;
    const mean = sum / count;
    this.speedSum += sum;
    this.spreadSum += Math.sqrt(Math.max(0, sumSq / count - mean * mean));
    this.samples += count;
  }

  result(): EpisodeMetrics {
    const metrics: EpisodeMetrics = {
      steps: this.steps,
      return: this.returnSum,
      meanSpeed: this.samples > 0 ? this.speedSum / this.samples : 0,
      speedSpread: this.steps > 0 ? this.spreadSum / this.steps : 0,
      collision: this.env.collided[this.copy] === 1,
      minGap: this.minGap,
    };
    if (this.env instanceof RoutingEnv) metrics.routing = routingMetrics(this.env, this.copy);
    if (this.caccTargets) {
      metrics.headwayRmse = Math.sqrt(this.headwaySq / Math.max(1, this.samples));
      metrics.speedRmse = Math.sqrt(this.speedSq / Math.max(1, this.samples));
    }
    return metrics;
  }
}
