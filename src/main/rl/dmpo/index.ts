/** DMPO's local models and branched rollouts: what a DMPO learner uses. */
export { LocalModels, DEFAULT_LOCAL_MODEL_CONFIG } from './localModel.ts';
export type { LocalModelConfig, ModelTrainingReport, ModelValidation } from './localModel.ts';
export { recordEpisodes, EpisodeFifo } from './episodes.ts';
export type { RealEpisode } from './episodes.ts';
export type { BranchedRolloutOptions, ModelPolicy, ModelRollout } from './branchedRollout.ts';
export { SPEC_ARCHITECTURE } from './gcn.ts';
export type { GcnArchitecture, ModelSystem, ParameterSegment } from './gcn.ts';
