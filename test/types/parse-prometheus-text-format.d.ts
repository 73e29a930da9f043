declare module "parse-prometheus-text-format" {
  export interface ParsedFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
  }
  /** Parses Prometheus text exposition; throws InvalidLineError on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
