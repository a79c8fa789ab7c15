// The load profile: a steady base rate with bursts on top, read from environment variables.
//
// PROFILE picks a preset (`default`, about 3 minutes; `quick`, about half a minute); any of the
// variables below set explicitly wins over the preset. Rates are totals over the three scenarios,
// each carrying its share of them. The presets' schedules and the shares are load/shape.json's,
// the file the experiment runner reads too, so the two cannot drift apart.

/** load/shape.json, resolved against this module (not the working directory or the entry script). */
const SHAPE = JSON.parse(open(import.meta.resolve('../shape.json')));

/** The schedule fields of a shape.json profile that k6 reads; each has an upper-case variable. */
const SCHEDULE = ['bursts', 'burst_s', 'gap_s', 'warmup_s', 'recovery_s', 'ramp_s'];

/**
 * Presets: rates in requests/s, times in seconds. The experiment passes rates of its own
 * (calibrated multiples of the pool's capacity); by hand, a preset runs at shape.json's
 * `hand_rates`.
 */
export const PRESETS = Object.fromEntries(
  Object.entries(SHAPE.profiles).map(([name, profile]) => [
    name,
    {
      BASE_RPS: SHAPE.hand_rates.base_rps,
      BURST_RPS: SHAPE.hand_rates.burst_rps,
      ...Object.fromEntries(SCHEDULE.map((field) => [field.toUpperCase(), profile[field]])),
    },
  ]),
);

/**
 * Every endpoint by its scenario (`login`, `create`, `read`): `endpoint`, the service's metric
 * label and the requests' `endpoint` tag; `title`; `share`, its fraction of the total rate.
 */
export const ENDPOINTS = Object.fromEntries(SHAPE.endpoints.map((e) => [e.scenario, e]));

/** Each scenario's share of the total rate. Writes dominate, reads are the bystanders. */
export const SHARES = Object.fromEntries(SHAPE.endpoints.map((e) => [e.scenario, e.share]));

function number(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name}=${raw} is not a non-negative number`);
  }
  return value;
}

/** A comma-separated list of non-negative rates (`[]` when unset). */
function rateList(name) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return [];
  return raw.split(',').map((item) => {
    const value = Number(item);
    if (item.trim() === '' || !Number.isFinite(value) || value < 0) {
      throw new Error(`${name}=${raw}: ${item} is not a non-negative number`);
    }
    return value;
  });
}

/** The total rate of burst `i`: the sweep's i-th rate (`burst_rates`), else the one burst rate. */
function burstRate(profile, i) {
  return profile.burst_rates && profile.burst_rates.length ? profile.burst_rates[i] : profile.burst_rps;
}

/** Reads the profile from the environment (see load/README.md for every variable). */
export function readProfile() {
  const name = __ENV.PROFILE || 'default';
  const preset = PRESETS[name];
  if (!preset) {
    throw new Error(`PROFILE=${name} is unknown; use one of: ${Object.keys(PRESETS).join(', ')}`);
  }
  const profile = { name };
  for (const [key, fallback] of Object.entries(preset)) {
    profile[key.toLowerCase()] = number(key, fallback);
  }
  // The longest response time at which k6 still holds the arrival rate: each scenario gets
  // rate x this many VUs, all allocated before the test starts (allocating VUs mid-burst costs
  // CPU exactly when it is scarcest). Slower responses than this and k6 drops iterations,
  // counted in `dropped_iterations`. 1.5 s: a starved login waits for a connection twice (user
  // lookup, then session insert), up to the service's 500 ms acquire timeout each, plus its hash.
  profile.max_latency_s = number('MAX_LATENCY_S', 1.5);
  // A sweep (the runner's --sweep): one burst per rate of BURST_RATES, in that order, in place
  // of BURSTS bursts at BURST_RPS. Unset, the single-rate profile is what it always was.
  profile.burst_rates = rateList('BURST_RATES');
  profile.bursts = profile.burst_rates.length ? profile.burst_rates.length : Math.floor(profile.bursts);
  profile.duration_s =
    profile.warmup_s +
    profile.bursts * (profile.ramp_s + profile.burst_s + profile.ramp_s) +
    Math.max(profile.bursts - 1, 0) * profile.gap_s +
    profile.recovery_s;
  return profile;
}

/**
 * The stages of a `ramping-arrival-rate` scenario carrying `share` of the total rate. Every
 * scenario gets the same timing, so their bursts line up.
 */
export function stages(profile, share) {
  const base = Math.round(profile.base_rps * share);
  const hold = (seconds, target) => ({ duration: `${seconds}s`, target });
  const result = [];
  if (profile.warmup_s > 0) result.push(hold(profile.warmup_s, base));
  for (let i = 0; i < profile.bursts; i++) {
    const burst = Math.round(burstRate(profile, i) * share);
    if (i > 0 && profile.gap_s > 0) result.push(hold(profile.gap_s, base));
    if (profile.ramp_s > 0) result.push(hold(profile.ramp_s, burst));
    result.push(hold(profile.burst_s, burst));
    if (profile.ramp_s > 0) result.push(hold(profile.ramp_s, base));
  }
  if (profile.recovery_s > 0) result.push(hold(profile.recovery_s, base));
  return { startRate: base, stages: result };
}

/** One open-model scenario running `exec` with `share` of the rate. */
export function scenario(profile, share, exec) {
  const { startRate, stages: scenarioStages } = stages(profile, share);
  const peak = Math.max(profile.base_rps, ...Array.from({ length: profile.bursts }, (_, i) => burstRate(profile, i))) * share;
  const vus = Math.max(Math.ceil(peak * profile.max_latency_s), 5);
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate,
    timeUnit: '1s',
    stages: scenarioStages,
    preAllocatedVUs: vus,
    maxVUs: vus,
    // Iterations still running when the last stage ends get this long (the request timeout).
    gracefulStop: '10s',
  };
}
