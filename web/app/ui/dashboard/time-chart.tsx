"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface Series {
  key: string;
  name: string;
  color: string;
  dashed?: boolean;
}

/** Rows keyed by series key; `x` is seconds relative to the newest scrape (-60..0). */
export type Row = { x: number } & Record<string, number | null>;

const fmtTick = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(0) : String(+v.toFixed(2)));

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
            <YAxis fontSize={11} width={46} tickFormatter={fmtTick} allowDecimals />
            <Tooltip
              formatter={(value) => (typeof value === "number" ? `${+value.toFixed(2)} ${unit}` : "–")}
              labelFormatter={(label) => `${label} s`}
              isAnimationActive={false}
            />
            <Legend wrapperStyle={{ fontSize: 11 }} iconSize={9} />
            {series.map((s) => (
              <Line
                key={s.key}
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
