/**
 * What the dashboard page keeps in the browser, and how one answer of GET /dashboard/metrics
 * changes it. Pure, so the live page (which applies each answer as it arrives) and the
 * recorder's view (which keeps them and applies them frame by frame, ui/dashboard/dashboard.tsx)
 * end up in the same state from the same answers.
 */
import { describeError } from "./api";
import type { Reading } from "./dashboard";

/** How much history the charts show. */
export const VIEW_MS = 60_000;

export interface DashboardState {
  /** The last minute of readings, oldest first. */
  readings: Reading[];
  error: string | null;
  /** `t` of the last reading, null before the first. */
  lastOk: number | null;
}

export const INITIAL_STATE: DashboardState = { readings: [], error: null, lastOk: null };

/** One poll as the page's fetch saw it: an HTTP answer, or none (`String(err)` of the fetch). */
export type Answer = { status: number; statusText: string; text: string } | { failure: string };

export function addReading(state: DashboardState, reading: Reading): DashboardState {
  const readings = [...state.readings, reading].filter((r) => reading.t - r.t <= VIEW_MS);
  return { readings, error: null, lastOk: reading.t };
}

/** A reading adds to the charts; anything else shows why, keeping the data already shown. */
export function applyAnswer(state: DashboardState, answer: Answer): DashboardState {
  if ("failure" in answer) return { ...state, error: describeError(null, null, answer.failure) };
  if (answer.status >= 200 && answer.status < 300) {
    try {
      return addReading(state, JSON.parse(answer.text) as Reading);
    } catch (err) {
      return { ...state, error: describeError(null, null, String(err)) };
    }
  }
  let body: unknown = null;
  try {
    body = JSON.parse(answer.text);
  } catch {}
  return { ...state, error: describeError(answer.status, body, answer.statusText) };
}
