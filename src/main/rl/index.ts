/** The tensor layer the learners build on: backend choice, per-agent networks, fast updates. */
export { selectBackend, BackendUnavailableError, BACKEND_CHOICES } from './backend.ts';
export type { BackendChoice, BackendName, BackendReport } from './backend.ts';
export { AgentNetworks, NetworkParameters, categoricalProbabilities, DEFAULT_HIDDEN_SIZES, DEFAULT_INITIAL_LOG_STD } from './agent-networks.ts';
export type { AgentNetworksConfig, ActorOutput } from './agent-networks.ts';
export type { ActorBatch, CriticBatch } from './batches.ts';
export type { ActorAgentStats, CriticAgentStats, ParameterGroup, UpdateSchedule } from './group-update.ts';
export { CATEGORICAL_SMOOTHING, headOutputSize } from './policy-loss.ts';
export type { ActorLoss, DpoLoss, PerAgent, PolicyHead, PpoClipLoss } from './policy-loss.ts';
export { createTrainer } from './trainer.ts';
export type { NetworkTrainer, TrainerOptions } from './trainer.ts';
