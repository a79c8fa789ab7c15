/**
 * Runs one reading's queries (server side only: it bundles the Grafana dashboard's JSON, which
 * the browser has no use for). Every query is asked through `query`, an instant query at one
 * fixed time, so all numbers of a reading describe the same moment.
 */
import { type Answers, MINUTE_WINDOW_SECS, RATE_WINDOW_SECS, WINDOWED } from "./dashboard";
import { type RefId, REF_IDS, panelQuery } from "./panel-queries";
import type { Sample } from "../../../monitoring/prometheus-api.mjs";

/** Every query over RATE_WINDOW_SECS, the windowed ones again over MINUTE_WINDOW_SECS. */
export async function queryAll(query: (expr: string) => Promise<Sample[]>, instance: string): Promise<Answers> {
  const run = async <R extends RefId>(refIds: readonly R[], seconds: number) => {
    const exprs = refIds.map((refId) => panelQuery(refId, { instance, rateInterval: `${seconds}s` }));
    const answers = await Promise.all(exprs.map(query));
    return Object.fromEntries(refIds.map((refId, i) => [refId, answers[i]])) as Record<R, Sample[]>;
  };
  const [now, minute] = await Promise.all([run(REF_IDS, RATE_WINDOW_SECS), run(WINDOWED, MINUTE_WINDOW_SECS)]);
  return { now, minute };
}
