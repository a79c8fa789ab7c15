"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface Series {
  key: string;
  name: string;
  color: string;
  dashed?: boolean;
  /** Drawn against a second y axis on the right (for a different unit). */
  right?: boolean;
}

/** Rows keyed by series key; `x` is seconds relative to the newest scrape (-60..0). */
export type Row = { x: number } & Record<string, number | null>;

const fmtTick = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : String(+v.toFixed(2)));

/** A small line chart over the dashboard's sliding 60 s window; null values leave gaps. */
export function TimeChart({ title, rows, series, unit }: { title: string; rows: Row[]; series: Series[]; unit: string }) {
  return (
    <section className="card chart" aria-label={title}>
      <h2>{title}</h2>
      <div className="chart-box">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={{ top: 4, right: 8, bottom: 0, left: -8 }}>
            <CartesianGrid stroke="#e6e9ef" />
            <XAxis
              dataKey="x"
              type="number"
              domain={[-60, 0]}
              ticks={[-60, -45, -30, -15, 0]}
              tickFormatter={(v: number) => `${v}s`}
              fontSize={11}
            />
            <YAxis yAxisId="left" fontSize={11} width={46} tickFormatter={fmtTick} allowDecimals />
            {series.some((s) => s.right) && (
              <YAxis yAxisId="right" orientation="right" fontSize={11} width={40} tickFormatter={fmtTick} />
            )}
            <Tooltip
              formatter={(value) => (typeof value === "number" ? `${+value.toFixed(2)} ${unit}` : "–")}
              labelFormatter={(label) => `${label} s`}
              isAnimationActive={false}
            />
            <Legend wrapperStyle={{ fontSize: 11 }} iconSize={9} itemSorter={null} />
            {series.map((s) => (
              <Line
                key={s.key}
                yAxisId={s.right ? "right" : "left"}
                dataKey={s.key}
                name={s.name}
                stroke={s.color}
                strokeWidth={2}
                strokeDasharray={s.dashed ? "5 3" : undefined}
                dot={false}
                isAnimationActive={false}
                connectNulls={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}
