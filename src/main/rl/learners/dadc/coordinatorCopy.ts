/**
 * One copy of the coordinator learner (the DADC paper's Figure 1(b)): its networks, their Adam
 * moments, its copy of the common random stream and its window of common data. The method
 * gives every agent its own copy; all of them start from the same seed, draw from the same
 * common stream and learn from the same common data (Z, theta, the team reward), so they are
 * equal parameter for parameter at every step. `computeCoordinatorOnce` exploits that: one
 * copy serves every agent (tests/unit/rl/learners/dadc.test.ts checks the results equal those
 * of one copy per agent), which makes demand response's 100 loads one coordinator's work.
 */
import type { LearnerConfig } from '../../../../shared/learners.ts';
import { RngStreams } from '../../../sim/rng.ts';
import { adamStep, zeroMoments, type AdamMoments } from '../../nn/adam.ts';
import { DadcNetworks, type NetworkPart } from './networks.ts';
import { CriticReplay } from './criticReplay.ts';
import { AgentWindow } from './window.ts';

/** Stream seed offset of the common stream (identical at every copy). */
const COMMON_SEED_OFFSET = 0xc0;

export class CoordinatorCopy {
  readonly networks: DadcNetworks;
  readonly moments: Record<NetworkPart, AdamMoments[]>;
  readonly common: RngStreams;
  readonly window: AgentWindow;
  /** The last criticReplayWindows - 1 windows, which the critic's TD steps see besides the current one. */
  readonly replay: CriticReplay;

  constructor(
    /** The first agent this copy serves: it reads that agent's common information, and checkpoints name the copy by it. */
    readonly firstAgent: number,
    config: LearnerConfig<'dadc'>,
    shape: { common: number; prescription: number },
    seed: number,
  ) {
    // The predictor's second head predicts the next AIS or the next common observation (config.aisTarget).
    const next = config.aisTarget === 'next-observation' ? shape.common : config.aisSize;
    const widths = { criticUnits: config.criticUnits || config.aisSize, criticPerChoice: config.criticHead === 'per-choice', actorUnits: config.actorUnits || config.aisSize, stateStd: config.coordinatorStd === 'state' };
    this.networks = new DadcNetworks({ ...shape, ais: config.aisSize, next, initialLogStd: config.initialLogStd, ...widths }, seed);
    const momentsOf = (part: NetworkPart) => this.networks.parts[part].map((m) => zeroMoments(m.value.length));
    this.moments = { approximator: momentsOf('approximator'), critic: momentsOf('critic'), actor: momentsOf('actor') };
    this.common = new RngStreams(config.numEnvs);
    for (let e = 0; e < config.numEnvs; e++) this.common.seed(e, seed + COMMON_SEED_OFFSET + e);
    this.window = new AgentWindow(config.rolloutSteps, config.numEnvs, shape.common, shape.prescription, config.aisSize);
    this.replay = new CriticReplay(config.criticReplayWindows - 1, config.rolloutSteps, config.numEnvs, shape.common, shape.prescription, config.aisSize);
  }

  /** One Adam step of `part` on the gradients the last backward pass left in its parameters. */
  adam(part: NetworkPart, learningRate: number): void {
    this.networks.parts[part].forEach((m, k) => adamStep(m.value, m.grad, this.moments[part][k], { learningRate }));
  }
}
