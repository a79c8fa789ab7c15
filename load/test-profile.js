// Checks the profile arithmetic of load/lib/profile.js without a service: run it with k6 itself,
//
//   "$K6" run --quiet load/test-profile.js
//
// Each case runs once, at init; a failure throws, which makes k6 exit non-zero.

import { PRESETS, SHARES, readProfile, scenario, stages } from './lib/profile.js';

const seconds = (duration) => Number(duration.replace(/s$/, ''));
const total = (list) => list.reduce((sum, stage) => sum + seconds(stage.duration), 0);

const cases = {
  'the shares add up to the whole rate': () => {
    const sum = SHARES.login + SHARES.create + SHARES.read;
    if (Math.abs(sum - 1) > 1e-9) throw new Error(`shares add up to ${sum}`);
  },

  'the stages last exactly duration_s, for every preset': () => {
    for (const name of Object.keys(PRESETS)) {
      const profile = { ...lower(PRESETS[name]), name, ramp_s: 1, max_latency_s: 1 };
      profile.duration_s = readDuration(profile);
      const got = total(stages(profile, SHARES.login).stages);
      if (got !== profile.duration_s) throw new Error(`${name}: stages last ${got} s, not ${profile.duration_s}`);
    }
  },

  'the quick preset stays under a minute and the default one is about three': () => {
    const quick = readDuration({ ...lower(PRESETS.quick), ramp_s: 1 });
    const full = readDuration({ ...lower(PRESETS.default), ramp_s: 1 });
    if (quick >= 60) throw new Error(`quick lasts ${quick} s`);
    if (full < 150 || full > 210) throw new Error(`default lasts ${full} s`);
  },

  'each burst ramps to its share of BURST_RPS and back to its share of BASE_RPS': () => {
    const profile = { base_rps: 100, burst_rps: 1000, bursts: 2, burst_s: 5, gap_s: 3, warmup_s: 4, recovery_s: 2, ramp_s: 1 };
    const { startRate, stages: read } = stages(profile, SHARES.read);
    const expected = [
      ['4s', 20], ['1s', 200], ['5s', 200], ['1s', 20],
      ['3s', 20], ['1s', 200], ['5s', 200], ['1s', 20],
      ['2s', 20],
    ];
    if (startRate !== 20) throw new Error(`startRate ${startRate}`);
    const got = read.map((s) => [s.duration, s.target]);
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`stages ${JSON.stringify(got)}`);
  },

  'a sweep runs one burst per rate of burst_rates, in order, with VUs for the highest': () => {
    const profile = { base_rps: 100, burst_rates: [500, 1500], bursts: 2, burst_s: 5, gap_s: 3, warmup_s: 4, recovery_s: 2, ramp_s: 1, max_latency_s: 1 };
    const { stages: read } = stages(profile, SHARES.read);
    const expected = [
      ['4s', 20], ['1s', 100], ['5s', 100], ['1s', 20],
      ['3s', 20], ['1s', 300], ['5s', 300], ['1s', 20],
      ['2s', 20],
    ];
    const got = read.map((s) => [s.duration, s.target]);
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`stages ${JSON.stringify(got)}`);
    const vus = scenario(profile, SHARES.read, 'listTodos').preAllocatedVUs;
    if (vus !== 300) throw new Error(`VUs ${vus}`);
  },

  'VUs cover the peak rate for MAX_LATENCY_S': () => {
    const profile = { base_rps: 300, burst_rps: 1600, bursts: 1, burst_s: 1, gap_s: 0, warmup_s: 0, recovery_s: 0, ramp_s: 1, max_latency_s: 1.5 };
    const login = scenario(profile, SHARES.login, 'login');
    if (login.preAllocatedVUs !== 960 || login.maxVUs !== 960) throw new Error(`VUs ${login.preAllocatedVUs}/${login.maxVUs}`);
    if (login.executor !== 'ramping-arrival-rate') throw new Error(`executor ${login.executor}`);
  },

  'the environment picks the preset and overrides it per variable': () => {
    // No PROFILE and no overrides in this test's environment: the default preset as it is.
    const profile = readProfile();
    if (profile.name !== (__ENV.PROFILE || 'default')) throw new Error(`profile ${profile.name}`);
    if (!__ENV.BASE_RPS && profile.base_rps !== PRESETS[profile.name].BASE_RPS) throw new Error('base_rps');
  },
};

function lower(preset) {
  const out = {};
  for (const [key, value] of Object.entries(preset)) out[key.toLowerCase()] = value;
  return out;
}

function readDuration(p) {
  return p.warmup_s + p.bursts * (2 * p.ramp_s + p.burst_s) + Math.max(p.bursts - 1, 0) * p.gap_s + p.recovery_s;
}

let failed = 0;
for (const [name, run] of Object.entries(cases)) {
  try {
    run();
  } catch (error) {
    failed += 1;
    console.error(`FAIL ${name}: ${error.message}`);
  }
}
if (failed > 0) {
  throw new Error(`${failed} of ${Object.keys(cases).length} profile checks failed`);
}

export const options = { vus: 1, iterations: 1, summaryTrendStats: ['avg'] };

export default function () {}

export function handleSummary() {
  const count = Object.keys(cases).length;
  return { stdout: `profile: ${count} passed, 0 failed\n` };
}
