import { METRICS, METRICS_NAMESPACE } from "../packages/core/src/metrics/catalogue.ts";

/**
 * The CloudWatch dashboard of the numbers a security team reports: events received, outcomes, time to remediate and
 * time waiting for approval, from the metrics the functions emit (packages/core/src/metrics/catalogue.ts). Each graph
 * is a SEARCH over the metric's whole dimension set, so every detector, outcome and source that ever reported shows up
 * without a list to keep current (a SEARCH returns up to 500 series; the catalogue's dimensions stay well under).
 * infra/dashboard.ts creates it.
 * Body structure: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 * SEARCH syntax (percentile statistics such as p95 included):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html
 */

/** Five minutes: the period of every graph. */
export const DASHBOARD_PERIOD_SECONDS = 300;

type MetricKey = keyof typeof METRICS;

/** `SEARCH('{EksResponder,service,detector} MetricName="TimeToRemediate"', 'p95', 300)` */
export function searchOf(key: MetricKey, statistic: string): string {
  const { name, dimensions } = METRICS[key];
  const schema = [METRICS_NAMESPACE, "service", ...dimensions].join(",");
  return `SEARCH('{${schema}} MetricName="${name}"', '${statistic}', ${DASHBOARD_PERIOD_SECONDS})`;
}

interface Graph {
  title: string;
  key: MetricKey;
  statistics: string[];
  /** Milliseconds shown as such on the axis. */
  unit?: string;
  stacked?: boolean;
}

const GRAPHS: Graph[] = [
  { title: "Events received, by source and detail-type", key: "eventsReceived", statistics: ["Sum"], stacked: true },
  { title: "Outcomes, by detector and outcome", key: "outcomes", statistics: ["Sum"], stacked: true },
  {
    title: "Time to remediate (event time → change applied), p50 / p95 / max by detector",
    key: "timeToRemediate",
    statistics: ["p50", "p95", "Maximum"],
    unit: "ms",
  },
  {
    title: "Time waiting for approval (request → decision), p50 / p95 / max by detector",
    key: "approvalWait",
    statistics: ["p50", "p95", "Maximum"],
    unit: "ms",
  },
];

/** The dashboard body (JSON text once stringified): one graph per line of GRAPHS, two to a row. */
export function dashboardBody(region: string): { widgets: Record<string, unknown>[] } {
  return {
    widgets: GRAPHS.map((graph, i) => ({
      type: "metric",
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: {
        title: graph.title,
        region,
        view: "timeSeries",
        stacked: graph.stacked === true,
        period: DASHBOARD_PERIOD_SECONDS,
        metrics: graph.statistics.map((statistic, j) => [
          { expression: searchOf(graph.key, statistic), id: `${graph.key.toLowerCase()}${j}`, label: statistic },
        ]),
        ...(graph.unit ? { yAxis: { left: { label: graph.unit, min: 0, showUnits: false } } } : {}),
      },
    })),
  };
}
