/**
 * The commands that train and manage runs in the experiment history: train, resume, eval,
 * runs (list, show, delete, and run bundles: export, import) and export. All take --db FILE
 * (default: the app's database in the user data folder, or $HEADWAY_DB).
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { Option } from 'commander';
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { LEARNER_IDS, isLearnerId, PRESET_IDS, type LearnerPresetId } from '../../shared/learners.ts';
import type { EpisodeInfo, RunDetail } from '../../shared/runs.ts';
import { isScenarioId, ParamError, SCENARIO_IDS, type ScenarioId } from '../../shared/scenarios.ts';
import { VIDEO_FPS, VIDEO_SIZE } from '../../shared/videoExport.ts';
import { BACKEND_CHOICES, BackendUnavailableError, type BackendChoice } from '../rl/nn/backend.ts';
import { createTrajectoryWriter, type TrajectoryFormat, type TrajectorySource } from '../sim/trajectoryFormats.ts';
import { defaultDatabasePath, RunStore, StoreError } from '../store/index.ts';
import { STOP_WITH_PARENT_ENV } from '../jobs/runProcess.ts';
import { evaluateRun, resumeTraining, startTraining, type TrainingHooks, type TrainingOutcome } from '../jobs/trainingRun.ts';
import { asUsage, parseIntegerOption, parseKeyValues, UsageError } from './errors.ts';
import { AtomicTextFile } from './output.ts';
import { exportVideo, videoRequest } from './videoExport.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];
export const dbOption = () => new Option('--db <file>', `database file (default: ${defaultDatabasePath()})`);

function openStore(db: string | undefined): RunStore {
  return RunStore.open(db ?? defaultDatabasePath());
}

function parseRunId(raw: string): number {
  return parseIntegerOption('RUN_ID', raw, 1);
}

function requireRun(store: RunStore, id: number): RunDetail {
  const run = store.getRun(id);
  if (!run) throw new UsageError(`RUN_ID ${id}: no such run in this database`);
  return run;
}

const print = (text: string) => process.stdout.write(`${text}\n`);

export function registerRunCommands(program: Command): void {
  program
    .command('train')
    .description('train a learner on a scenario, storing the run in the experiment history')
    .requiredOption('--scenario <id>', `scenario: ${SCENARIO_IDS.join(', ')}`)
    .requiredOption('--algo <id>', `learner: ${LEARNER_IDS.join(', ')}`)
    .option('--preset <preset>', `hyperparameter preset: ${PRESET_IDS.join(', ')}`, 'default')
    .option('--seed <n>', 'run seed (non-negative integer)', '0')
    .option('--set <key=value>', 'set a learner hyperparameter (repeatable), e.g. lrActor=3e-4', collect, [])
    .option('--param <key=value>', 'set a scenario parameter (repeatable), e.g. length=230', collect, [])
    .option('--iterations <n>', 'training budget in iterations (default 20)')
    .option('--env-steps <n>', 'training budget in environment steps (instead of --iterations)')
    .option('--name <text>', 'run name (default "<algo> on <scenario>, seed <seed>")')
    .option('--tag <tag>', 'tag the run (repeatable)', collect, [])
    .addOption(new Option('--backend <backend>', `tensor backend: ${BACKEND_CHOICES.join(', ')}`).default('auto'))
    .option('--threads <n>', 'update threads (1 = this thread; default 2)', '2')
    .option('--json', 'print {runId, status, envSteps, lastEvalReturn} at the end')
    .addOption(dbOption())
    .action(async (options) => {
      if (!isScenarioId(options.scenario)) {
        throw new UsageError(`--scenario ${JSON.stringify(options.scenario)} is not allowed; expected one of ${SCENARIO_IDS.join(', ')}`);
      }
      if (!isLearnerId(options.algo)) throw new UsageError(`--algo ${JSON.stringify(options.algo)} is not allowed; expected one of ${LEARNER_IDS.join(', ')}`);
      if (!(PRESET_IDS as readonly string[]).includes(options.preset)) {
        throw new UsageError(`--preset ${JSON.stringify(options.preset)} is not allowed; expected one of ${PRESET_IDS.join(', ')}`);
      }
      if (!(BACKEND_CHOICES as readonly string[]).includes(options.backend)) {
        throw new UsageError(`--backend ${JSON.stringify(options.backend)} is not allowed; expected one of ${BACKEND_CHOICES.join(', ')}`);
      }
      if (options.iterations !== undefined && options.envSteps !== undefined) throw new UsageError('--iterations and --env-steps cannot be combined');
      const budget =
        options.envSteps !== undefined
          ? { envSteps: parseIntegerOption('--env-steps', options.envSteps, 1) }
          : { iterations: parseIntegerOption('--iterations', options.iterations ?? '20', 1) };
      const request = {
        scenario: options.scenario as ScenarioId,
        learner: options.algo,
        preset: options.preset as LearnerPresetId,
        seed: parseIntegerOption('--seed', options.seed, 0),
        settings: parseKeyValues('--set', options.set),
        scenarioParams: parseKeyValues('--param', options.param),
        budget,
        name: options.name,
        tags: options.tag,
        backend: options.backend as BackendChoice,
        threads: parseIntegerOption('--threads', options.threads, 1, 64),
      };
      await withStore(options.db, (store) => runWithProgress(options.json === true, (hooks) => asUsage([ParamError, BackendUnavailableError], () => startTraining(store, request, hooks))));
    });

  program
    .command('resume')
    .description('continue a stopped or interrupted run from its last checkpoint')
    .argument('<RUN_ID>')
    .option('--json', 'print {runId, status, envSteps, lastEvalReturn} at the end')
    .addOption(dbOption())
    .action(async (runId: string, options) => {
      const id = parseRunId(runId);
      await withStore(options.db, async (store) => {
        const run = requireRun(store, id);
        if (run.status === 'finished') throw new UsageError(`run ${id} has finished its budget; nothing to resume`);
        if (run.status === 'running') throw new UsageError(`run ${id} is being trained right now`);
        await runWithProgress(options.json === true, (hooks) => resumeTraining(store, id, hooks));
      });
    });

  program
    .command('eval')
    .description("evaluate a run's best checkpoint; the episodes are stored with the run")
    .argument('<RUN_ID>')
    .option('--episodes <n>', 'evaluation episodes', '5')
    .option('--seed <n>', 'seed of the first episode (default: the run seed + 500000)')
    .option('--json', 'print {episodes, meanReturn, stdReturn, metrics}')
    .addOption(dbOption())
    .action(async (runId: string, options) => {
      const id = parseRunId(runId);
      const episodes = parseIntegerOption('--episodes', options.episodes, 1, 1000);
      const seed = options.seed === undefined ? undefined : parseIntegerOption('--seed', options.seed, 0);
      await withStore(options.db, async (store) => {
        requireRun(store, id);
        const result = await evaluateRun(store, id, episodes, seed);
        if (options.json) {
          print(JSON.stringify({ episodes: result.episodes.length, meanReturn: result.meanReturn, stdReturn: result.stdReturn, metrics: result.metrics }));
        } else {
          print(`run ${id}, checkpoint of iteration ${result.iteration}: ${episodes} episodes, return ${result.meanReturn.toFixed(3)} +- ${result.stdReturn.toFixed(3)}`);
          print(Object.entries(result.metrics).map(([key, value]) => `${key} ${Number(value).toFixed(3)}`).join(', '));
        }
      });
    });

  program
    .command('runs')
    .description('the experiment history: runs [list], runs show RUN_ID, runs delete RUN_ID, runs export RUN_ID... --bundle FILE.db, runs import FILE.db')
    .argument('[action]', 'list, show, delete, export or import', 'list')
    .argument('[args...]', 'show, delete: RUN_ID; export: RUN_ID...; import: FILE.db')
    .option('--bundle <file.db>', 'with export: the run bundle to write (a Headway database holding only these runs)')
    .option('--force', 'with export: replace an existing bundle file')
    .option('--sweep <SWEEP_ID>', 'with list: only the runs of this sweep (headway sweep)')
    .option('--json', 'machine-readable output')
    .addOption(dbOption())
    .action(async (action: string, args: string[], options) => {
      if (!RUNS_ACTIONS.includes(action)) throw new UsageError(`runs ${JSON.stringify(action)} is not allowed; expected list, show, delete, export or import`);
      if (action === 'export' || action === 'import') return withStore(options.db, (store) => bundleCommand(store, action, args, options));
      if (options.bundle !== undefined || options.force !== undefined) throw new UsageError(`--bundle and --force go with runs export, not runs ${action}`);
      if (options.sweep !== undefined && action !== 'list') throw new UsageError(`--sweep goes with runs list, not runs ${action}`);
      if (action !== 'list' && args.length !== 1) throw new UsageError(`runs ${action} needs one RUN_ID`);
      if (action === 'list' && args.length > 0) throw new UsageError(`runs list takes no arguments, got ${args.join(' ')}`);
      const runId = args[0];
      await withStore(options.db, (store) => {
        if (action === 'list') {
          const runs = store.listRuns(options.sweep === undefined ? {} : { sweepId: parseIntegerOption('--sweep', options.sweep, 1) });
          if (options.json) return print(JSON.stringify(runs));
          if (runs.length === 0) return print('no runs yet');
          print('id  status       algo   scenario       iterations  env steps  eval return  name');
          for (const r of runs) {
            print(
              `${String(r.id).padEnd(3)} ${r.status.padEnd(12)} ${r.algo.padEnd(6)} ${r.scenario.padEnd(14)} ${String(r.iterations).padStart(10)} ${String(r.envSteps).padStart(10)} ${(r.lastEvalReturn === null ? '-' : r.lastEvalReturn.toFixed(1)).padStart(12)}  ${r.name}`,
            );
          }
          return;
        }
        const id = parseRunId(runId);
        const run = requireRun(store, id);
        if (action === 'delete') {
          store.deleteRun(id);
          return print(options.json ? JSON.stringify({ deleted: id }) : `deleted run ${id}`);
        }
        const last = store.iterationMetrics(id);
        if (options.json) return print(JSON.stringify({ ...run, lastMetrics: last }));
        print(`run ${run.id}: ${run.name} (${run.status})`);
        print(`scenario ${run.scenario} ${JSON.stringify(run.params)}`);
        print(`learner ${run.algo}, preset ${run.preset}, seed ${run.seed}, backend ${run.backend}, Headway ${run.appVersion}`);
        print(`${run.iterations} iterations, ${run.envSteps} env steps, ${run.wallTimeS.toFixed(1)} s, last eval return ${run.lastEvalReturn ?? '-'}`);
        if (last) print(`last metrics: ${Object.entries(last.values).filter(([k]) => !k.includes('/agent')).map(([k, v]) => `${k}=${Number(v).toPrecision(4)}`).join(' ')}`);
      });
    });

  program
    .command('export')
    .description('export metrics of runs as CSV, or a stored episode as CSV / SUMO FCD XML, or as a video of its replay')
    .argument('<RUN_ID...>')
    .option('--metrics <file.csv>', 'metrics of the runs, one row per run and iteration, one column per series')
    .option('--episode <id>', 'a stored episode of the run')
    .option('--out <file>', 'with --episode: .csv, .jsonl or .xml')
    .option('--video <file>', 'with --episode: a video of its replay in 3D with HUD and legend, .webm (VP9) or .mp4 (H.264/AV1 where Chromium encodes them); renders in headless Chromium')
    .option('--fps <n>', `with --video: frames per second (${VIDEO_FPS.min} to ${VIDEO_FPS.max}, default ${VIDEO_FPS.default})`)
    .option('--size <WxH>', `with --video: resolution (default ${VIDEO_SIZE.default.width}x${VIDEO_SIZE.default.height})`)
    .option('--from <step>', 'with --video: first step (default 0)')
    .option('--to <step>', 'with --video: last step (default the episode\'s last)')
    .option('--beside <id>', 'with --video: another stored episode of the same scenario side by side under the same timeline (e.g. a fork beside its parent)')
    .addOption(dbOption())
    .action(async (runIds: string[], options) => {
      const ids = runIds.map(parseRunId);
      if ((options.metrics === undefined) === (options.episode === undefined)) throw new UsageError('export needs exactly one of --metrics FILE.csv or --episode EP --out FILE|--video FILE');
      const video = await withStore(options.db, (store) => {
        ids.forEach((id) => requireRun(store, id));
        if (options.metrics !== undefined) return exportMetrics(store, ids, options.metrics);
        if ((options.out === undefined) === (options.video === undefined)) throw new UsageError('--episode needs one of --out FILE.csv|FILE.jsonl|FILE.xml or --video FILE.webm|FILE.mp4');
        const episodeId = parseIntegerOption('--episode', options.episode, 1);
        const episode = store.listEpisodes(ids[0]).find((e) => e.id === episodeId);
        if (!episode) throw new UsageError(`--episode ${episodeId}: run ${ids[0]} has no such episode; its episodes are ${store.listEpisodes(ids[0]).map((e) => e.id).join(', ') || 'none'}`);
        if (options.video !== undefined) return videoRequest(ids[0], episode, options.video, options, besideEpisode(store, episode, options.beside));
        if (options.beside !== undefined) throw new UsageError('--beside goes with --video');
        exportEpisode(store, episode, options.out);
      });
      // The store is closed again here: the export's own server reads the episode.
      if (video) await exportVideo(video, options.video, options.db);
    });
}

/** --beside EP: the episode shown beside the exported one (any run's, of the same scenario). */
function besideEpisode(store: RunStore, episode: EpisodeInfo, raw: string | undefined): EpisodeInfo | null {
  if (raw === undefined) return null;
  const id = parseIntegerOption('--beside', raw, 1);
  let beside: EpisodeInfo;
  try {
    beside = store.getEpisode(id);
  } catch {
    throw new UsageError(`--beside ${id}: there is no episode ${id} in this history`);
  }
  if (beside.scenario !== episode.scenario) throw new UsageError(`--beside ${id}: episode ${id} is of ${beside.scenario}, episode ${episode.id} of ${episode.scenario}; side by side needs one scenario`);
  return beside;
}

const RUNS_ACTIONS = ['list', 'show', 'delete', 'export', 'import'];

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** runs export RUN_ID... --bundle FILE.db [--force], and runs import FILE.db (store/bundles.ts). */
function bundleCommand(store: RunStore, action: 'export' | 'import', args: readonly string[], options: { bundle?: string; force?: boolean; json?: boolean }): void {
  if (action === 'import') {
    if (args.length !== 1) throw new UsageError(`runs import needs one FILE.db (a run bundle), got ${args.length} arguments`);
    if (options.bundle !== undefined || options.force !== undefined) throw new UsageError('--bundle and --force go with runs export; runs import takes the bundle as its argument');
    const imported = store.importBundle(args[0]);
    const ids = (side: 'from' | 'to') => imported.runs.map((run) => run[side]).join(',');
    if (options.json) print(JSON.stringify(imported));
    else if (imported.runs.length === 0) print(`${args[0]} holds no runs; nothing was imported`);
    else print(`imported runs ${ids('from')} as ${ids('to')} (${plural(imported.checkpoints, 'checkpoint')}, ${plural(imported.episodes, 'episode')})`);
    return;
  }
  if (args.length === 0) throw new UsageError('runs export needs at least one RUN_ID');
  if (options.bundle === undefined) throw new UsageError('runs export needs --bundle FILE.db, the bundle to write');
  const ids = args.map(parseRunId);
  ids.forEach((id) => requireRun(store, id));
  if (options.force === undefined && existsSync(options.bundle)) throw new UsageError(`--bundle ${options.bundle}: the file exists; choose another or pass --force to replace it`);
  const exported = store.exportBundle(ids, options.bundle, { overwrite: options.force === true });
  const size = `${(exported.bytes / 2 ** 20).toFixed(1)} MB`;
  if (options.json) print(JSON.stringify(exported));
  else print(`exported ${plural(exported.runs.length, 'run')} (${plural(exported.checkpoints, 'checkpoint')}, ${plural(exported.episodes, 'episode')}, ${size}) to ${exported.file}`);
}

export async function withStore<T>(db: string | undefined, work: (store: RunStore) => T | Promise<T>): Promise<T> {
  const store = asUsage([ParamError], () => openStore(db));
  try {
    return await work(store);
  } catch (error) {
    if (error instanceof StoreError) throw new Error(error.message);
    throw error;
  } finally {
    store.close();
  }
}

/** Trains with a progress bar (on stderr) and a clean stop on Ctrl-C; prints the outcome. */
async function runWithProgress(json: boolean, train: (hooks: TrainingHooks) => Promise<TrainingOutcome>): Promise<void> {
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write('\nstopping after the current iteration (Ctrl-C again to abort)...\n');
  };
  process.on('SIGINT', onSigint);
  // A sweep's or worker's child: its stdin closes when that parent is gone (runProcess.ts).
  const parentGone = () => (stopRequested = true);
  const watchParent = process.env[STOP_WITH_PARENT_ENV] === '1';
  if (watchParent) process.stdin.on('end', parentGone).on('error', parentGone).resume().unref();
  const bar = new SingleBar({
    format: 'iteration {iteration} |{bar}| {percentage}% | {envSteps} env steps | return {ret} | {rate} steps/s | ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: false,
  });
  const started = Date.now();
  try {
    const outcome = await train({
      onStart: (run, backend) => {
        process.stderr.write(`run ${run.id}: ${run.algo} on ${run.scenario}, backend ${backend}\n`);
        bar.start(1000, 0, { iteration: run.iterations, envSteps: run.envSteps, ret: '-', rate: '-' });
      },
      onProgress: (p) => {
        const ret = p.lastEvalReturn ?? p.metrics['train/episodeReturn'];
        bar.update(Math.round(p.fraction * 1000), {
          iteration: p.iteration,
          envSteps: p.envSteps,
          ret: ret === undefined || ret === null || Number.isNaN(ret) ? '-' : ret.toFixed(1),
          rate: Math.round(p.metrics['time/envStepsPerSecond'] ?? 0),
        });
      },
      shouldStop: () => stopRequested,
    });
    bar.stop();
    if (json) {
      print(JSON.stringify({ runId: outcome.runId, status: outcome.status, envSteps: outcome.envSteps, lastEvalReturn: outcome.lastEvalReturn }));
    } else {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`run ${outcome.runId} ${outcome.status} after ${outcome.iterations} iterations, ${outcome.envSteps} env steps, ${seconds} s${outcome.message ? `: ${outcome.message}` : ''}\n`);
      print(String(outcome.runId));
    }
    if (outcome.status === 'failed') throw new Error(outcome.message ?? `run ${outcome.runId} failed`);
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
    if (watchParent) process.stdin.off('end', parentGone).off('error', parentGone).pause();
  }
}

/** One row per run and iteration; one column per series across all the runs. */
function exportMetrics(store: RunStore, ids: readonly number[], path: string): void {
  if (extname(path).toLowerCase() !== '.csv') throw new UsageError(`--metrics ${path}: expected a file ending in .csv`);
  const series = [...new Set(ids.flatMap((id) => store.seriesNames(id)))].sort();
  const file = new AtomicTextFile(path);
  try {
    file.write(['run', 'iteration', 'env_steps', 'wall_time_s', ...series].map(csvField).join(',') + '\n');
    for (const id of ids) {
      const columns = series.map((name) => new Map(store.metricSeries(id, name).map((p) => [p.iteration, p.value])));
      const iterations = new Map<number, { envSteps: number; wallTimeS: number }>();
      for (const name of series) for (const p of store.metricSeries(id, name)) iterations.set(p.iteration, { envSteps: p.envSteps, wallTimeS: p.wallTimeS });
      for (const [iteration, at] of [...iterations].sort((a, b) => a[0] - b[0])) {
        const values = columns.map((column) => {
          const value = column.get(iteration);
          return value === undefined || Number.isNaN(value) ? '' : String(value);
        });
        file.write([id, iteration, at.envSteps, at.wallTimeS, ...values].join(',') + '\n');
      }
    }
    file.commit();
  } catch (error) {
    file.abort();
    throw error;
  }
}

const csvField = (text: string | number) => (/[",\n]/.test(String(text)) ? `"${String(text).replace(/"/g, '""')}"` : String(text));

const FORMAT_BY_EXTENSION: Record<string, TrajectoryFormat> = { '.csv': 'csv', '.jsonl': 'jsonl', '.xml': 'xml' };

/** Streams a stored episode through the same writers `simulate` uses, chunk by chunk. */
function exportEpisode(store: RunStore, episode: EpisodeInfo, path: string): void {
  const format = FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (!format) throw new UsageError(`--out ${path}: unknown format; expected a file ending in .csv, .jsonl or .xml`);
  const { nVehicles, nAgents, obsDim } = episode;
  const source: TrajectorySource = {
    spec: {
      scenario: episode.scenario as ScenarioId,
      nVehicles,
      nAgents,
      obsDim,
      vehicleKind: Uint8Array.from(episode.vehicleKind),
      agentVehicle: Int32Array.from(episode.agentVehicle),
    },
    position: new Float64Array(nVehicles),
    speed: new Float64Array(nVehicles),
    accel: new Float64Array(nVehicles),
    gap: new Float64Array(nVehicles),
    action: new Float64Array(nVehicles),
    rawReward: new Float64Array(nAgents),
    obs: new Float64Array(nAgents * obsDim),
    collided: new Uint8Array(1),
    roadLength: Float64Array.of(episode.roadLength ?? Infinity),
  };
  const writer = createTrajectoryWriter(format, source);
  const file = new AtomicTextFile(path);
  const chunk = 512;
  try {
    file.write(writer.begin());
    for (let from = 0; from < episode.steps; from += chunk) {
      for (const frame of store.readSteps(episode.id, from, Math.min(episode.steps, from + chunk))) {
        setRounded(source.position, frame.position);
        setRounded(source.speed, frame.speed);
        setRounded(source.accel, frame.accel);
        setRounded(source.gap, frame.gap);
        setRounded(source.action, frame.vehicleAction);
        setRounded(source.rawReward, frame.reward);
        setRounded(source.obs, frame.obs);
        source.collided[0] = frame.collided ? 1 : 0;
        file.write(writer.step(frame.step));
      }
    }
    file.write(writer.end());
    file.commit();
  } catch (error) {
    file.abort();
    throw error;
  }
}

/** Stored frames are float32: write them with the 7 significant digits they carry, not float64 noise. */
function setRounded(target: Float64Array, source: Float32Array): void {
  for (let k = 0; k < source.length; k++) target[k] = Number.isFinite(source[k]) ? Number(source[k].toPrecision(7)) : source[k];
}
