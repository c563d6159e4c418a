/**
 * The metrics every function emits (CloudWatch embedded metric format, through Powertools Metrics in
 * packages/functions/src/metrics.ts), and the dashboard draws (infra/dashboard.ts): one list, so a widget can only
 * name a metric that is emitted, and the tests check both ends against it.
 *
 * Dimensions are few and bounded on purpose: CloudWatch bills every distinct combination of metric name and dimension
 * values as a custom metric, and keeps each as its own time series. The service (Powertools' default dimension, one
 * value), the event source and EventBridge detail-type (a handful), the detector (13) and the outcome (8) stay in the
 * low hundreds of series at most. The account, the region, the resource, the assessment and the API call or finding
 * type would grow with every account, cluster and event: they go to the record's metadata (searchable in CloudWatch
 * Logs Insights, no series of their own, no charge per value).
 * Embedded metric format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * Pricing of custom metrics (each dimension combination is one metric): https://aws.amazon.com/cloudwatch/pricing/
 */
export const METRICS_NAMESPACE = "EksResponder";
/** Powertools' `service` dimension, on every metric. */
export const METRICS_SERVICE = "eks-responder";

export const METRICS = {
  /** One per event the respond function receives. */
  eventsReceived: { name: "EventsReceived", unit: "Count", dimensions: ["source", "detailType"] },
  /** One per decision recorded (respond), and per approval ended (the approval workflow's Record task). */
  outcomes: { name: "Outcomes", unit: "Count", dimensions: ["detector", "outcome"] },
  /** Event time (CloudTrail eventTime, GuardDuty updatedAt) to the change applied, per applied assessment. */
  timeToRemediate: { name: "TimeToRemediate", unit: "Milliseconds", dimensions: ["detector"] },
  /** Approval asked for (StartExecution) to the approver's decision, per decided approval. */
  approvalWait: { name: "ApprovalWait", unit: "Milliseconds", dimensions: ["detector"] },
} as const;

export type MetricKey = keyof typeof METRICS;
export type MetricDimensions<K extends MetricKey> = Record<(typeof METRICS)[K]["dimensions"][number], string>;
