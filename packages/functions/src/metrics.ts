import type { MetricUnit } from "@aws-lambda-powertools/metrics/types";
import {
  METRICS,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricDimensions,
  type MetricKey,
} from "@eks-responder/core/metrics/catalogue.ts";
import type { MiddlewareObj } from "@middy/core";
import { logger } from "./runtime.ts";

interface Point {
  key: MetricKey;
  value: number;
  dimensions: Record<string, string>;
  metadata: Record<string, string>;
}

/**
 * The invocation's metrics, kept in memory until the handler ends and then printed as EMF by Powertools Metrics.
 * Powertools is imported at the first flush that has something to print, not with the handler, so the respond
 * function's cold start does not grow (bench/cold-start.ts, test/unit/infra/bundles.test.ts); and the points are
 * grouped by their dimensions, since one EMF record has one set of dimensions for all of its metrics.
 */
export class MetricsBuffer {
  private points: Point[] = [];

  add<K extends MetricKey>(key: K, value: number, dimensions: MetricDimensions<K>, metadata: Record<string, string>) {
    this.points.push({ key, value, dimensions, metadata });
  }

  /** Prints what was added (one EMF record per dimension values and metadata) and forgets it. */
  async flush(): Promise<void> {
    const points = this.points.splice(0);
    if (points.length === 0) return;
    const { Metrics } = await import("@aws-lambda-powertools/metrics");
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
    const groups = new Map<string, Point[]>();
    for (const point of points) {
      const group = JSON.stringify([point.dimensions, point.metadata]);
      groups.set(group, [...(groups.get(group) ?? []), point]);
    }
    for (const group of groups.values()) {
      const first = group[0];
      if (!first) continue;
      for (const [name, value] of Object.entries(first.dimensions)) metrics.addDimension(name, value);
      for (const [name, value] of Object.entries(first.metadata)) metrics.addMetadata(name, value);
      for (const point of group) {
        const { name, unit } = METRICS[point.key];
        metrics.addMetric(name, unit satisfies MetricUnit, point.value);
      }
      metrics.publishStoredMetrics();
    }
  }
}

/** The container's metrics: every handler's middleware flushes it. */
export const metrics = new MetricsBuffer();

/**
 * Flushes the invocation's metrics when the handler returns or throws (Powertools' own `logMetrics` middleware needs
 * its Metrics instance at import, which is what the lazy import avoids). A failed flush is logged, never the
 * invocation's failure: the event was handled either way.
 */
export function flushMetrics(): MiddlewareObj {
  const flush = async () => {
    try {
      await metrics.flush();
    } catch (error) {
      logger.error("metrics not flushed", { error });
    }
  };
  return { after: flush, onError: flush };
}
