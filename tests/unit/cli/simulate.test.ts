import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectClose, FIXTURE_DIR, loadCaccFixtures } from '../sim/caccFixtures.helpers.ts';
import { runCliInProcess, runCliProcess, tempDir } from './cli.helpers.ts';

interface CsvRow {
  step: number;
  vehicle: number;
  position: number;
  speed: number;
  accel: number;
  headway: string;
  action: string;
  reward: string;
}

function readCsv(path: string): CsvRow[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  expect(header).toBe('step,time_s,vehicle,position_m,speed_mps,accel_mps2,headway_m,action,reward');
  return lines.map((line) => {
    const [step, , vehicle, position, speed, accel, headway, action, reward] = line.split(',');
    return { step: Number(step), vehicle: Number(vehicle), position: Number(position), speed: Number(speed), accel: Number(accel), headway, action, reward };
  });
}

describe('headway simulate reproduces the CACC golden trajectories', () => {
  for (const fx of loadCaccFixtures()) {
    it(`${fx.file} through --param and --actions`, async () => {
      const dir = tempDir();
      const actionsFile = join(dir, 'actions.json');
      writeFileSync(actionsFile, JSON.stringify(fx.actions));
      const [key, value] = Object.entries(fx.init)[0];
      const out = join(dir, 'trajectory.csv');
      const result = await runCliInProcess(['simulate', '--scenario', fx.scenario, '--param', `${key}=${value}`, '--actions', actionsFile, '--out', out]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const rows = readCsv(out);
      const n = 8;
      expect(rows.length).toBe((fx.actions.length + 1) * (n + 1));
      for (const row of rows) {
        if (row.vehicle === 0) {
          expect(row.headway).toBe('');
          expect(row.reward).toBe('');
          continue;
        }
        const agent = row.vehicle - 1;
        expectClose(Number(row.headway), fx.headway[row.step][agent], `headway t=${row.step} agent ${agent}`);
        expectClose(row.speed, fx.speed[row.step][agent], `speed t=${row.step} agent ${agent}`);
        expectClose(row.accel, fx.accel[row.step][agent], `accel t=${row.step} agent ${agent}`);
        if (row.step > 0) expect(Number(row.action)).toBe(fx.actions[row.step - 1][agent]);
      }
      for (let t = 1; t <= fx.actions.length; t++) {
        const global = rows.filter((r) => r.step === t && r.vehicle > 0).reduce((sum, r) => sum + Number(r.reward), 0);
        expectClose(global, fx.globalReward[t - 1], `global reward step ${t}`);
      }
      // The initial observation, through the JSONL output.
      const jsonl = join(dir, 'trajectory.jsonl');
      const again = await runCliInProcess(['simulate', '--scenario', fx.scenario, '--param', `${key}=${value}`, '--actions', actionsFile, '--steps', '1', '--out', jsonl]);
      expect(again.code).toBe(0);
      const first = JSON.parse(readFileSync(jsonl, 'utf8').split('\n')[0]) as { obs: number[][] };
      first.obs.forEach((obs, i) => obs.forEach((x, d) => expectClose(x, fx.initialObservation[i][d], `obs0 agent ${i}[${d}]`)));
    });
  }

  it('runs as a real executable and prints a summary', () => {
    const dir = tempDir();
    const out = join(dir, 'catchup.csv');
    const result = runCliProcess(['simulate', '--scenario', 'cacc-catchup', '--param', 'leadHeadway=33.083257', '--policy', 'constant:3', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/600 steps/);
    expect(result.stdout).toMatch(/headway RMSE/);
    expect(readCsv(out)).toHaveLength(601 * 9);
  });
});

describe('headway simulate rejects bad input with one line, exit 2, nothing written', () => {
  const dir = tempDir();
  const actions = join(dir, 'short.json');
  writeFileSync(actions, JSON.stringify([[0, 1, 2, 3, 0, 1, 2, 3]]));
  const wrongWidth = join(dir, 'wrong.json');
  writeFileSync(wrongWidth, JSON.stringify([[0, 1]]));
  const badValue = join(dir, 'bad.json');
  writeFileSync(badValue, JSON.stringify([[0, 1, 2, 3, 7, 1, 2, 3]]));
  const out = join(dir, 'out.csv');
  const cases: [string, string[], RegExp][] = [
    ['unknown scenario', ['--scenario', 'highway', '--out', out], /--scenario "highway" is not allowed; expected one of cacc-catchup, cacc-slowdown, ring, figure-eight/],
    ['missing scenario', ['--out', out], /required option '--scenario <id>' not specified/],
    ['missing out', ['--scenario', 'ring'], /required option '--out <file>' not specified/],
    ['unknown output format', ['--scenario', 'ring', '--out', join(dir, 'x.txt')], /unknown format; expected a file ending in .csv, .jsonl or .xml/],
    ['missing output folder', ['--scenario', 'ring', '--out', join(dir, 'nope', 'x.csv')], /folder .* does not exist/],
    ['unknown parameter', ['--scenario', 'ring', '--param', 'speed=3', '--out', out], /scenario ring has no parameter 'speed'; its parameters are preset, length/],
    ['parameter out of range', ['--scenario', 'cacc-catchup', '--param', 'leadHeadway=-3', '--out', out], /leadHeadway=.*-3.* is not allowed; expected a number from 1 to 1000/],
    ['parameter not KEY=VALUE', ['--scenario', 'ring', '--param', 'length', '--out', out], /--param "length" is not allowed; expected KEY=VALUE/],
    ['bad preset', ['--scenario', 'ring', '--param', 'preset=fast', '--out', out], /expected one of dmpo, flow-1av, uncontrolled/],
    ['bad boolean', ['--scenario', 'ring', '--param', 'safetyCap=maybe', '--out', out], /expected true or false/],
    ['bad seed', ['--scenario', 'ring', '--seed', '-1', '--out', out], /--seed "-1" is not allowed; expected an integer >= 0/],
    ['bad steps', ['--scenario', 'ring', '--steps', '0', '--out', out], /--steps "0" is not allowed; expected an integer from 1 to 3000/],
    ['steps past horizon', ['--scenario', 'cacc-catchup', '--steps', '601', '--out', out], /expected an integer from 1 to 600/],
    ['bad policy', ['--scenario', 'ring', '--policy', 'greedy', '--out', out], /--policy "greedy" is not allowed; expected idle, human, random, constant:K or run:RUN_ID\[@CHECKPOINT\]/],
    ['constant out of the action space', ['--scenario', 'cacc-slowdown', '--policy', 'constant:4', '--out', out], /K must be an action index from 0 to 3/],
    ['missing actions file', ['--scenario', 'cacc-catchup', '--actions', join(dir, 'none.json'), '--out', out], /cannot read it \(no such file\)/],
    ['actions of the wrong width', ['--scenario', 'cacc-catchup', '--actions', wrongWidth, '--out', out], /step 0 must be an array of 8 actions/],
    ['action out of range', ['--scenario', 'cacc-catchup', '--actions', badValue, '--out', out], /step 0, agent 4 is 7; expected an action index from 0 to 3/],
    ['steps beyond the actions', ['--scenario', 'cacc-catchup', '--actions', actions, '--steps', '5', '--out', out], /exceeds the 1 steps of actions/],
    ['actions with a policy', ['--scenario', 'cacc-catchup', '--actions', actions, '--policy', 'random', '--out', out], /cannot be combined/],
    ['unknown option', ['--scenario', 'ring', '--speed', '3', '--out', out], /unknown option '--speed'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const result = await runCliInProcess(['simulate', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\s+at /);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
    });
  }

  it('prints help for every command', async () => {
    const help = await runCliInProcess(['simulate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--scenario <id>/);
    const top = await runCliInProcess(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/simulate/);
  });

  it('knows where the fixtures are', () => {
    expect(existsSync(FIXTURE_DIR)).toBe(true);
  });
});
