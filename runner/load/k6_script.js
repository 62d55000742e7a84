// The open-loop load of `fab bench --load open`: k6's constant-arrival-rate executor
// starts BENCH_RATE_MILLI iterations per 1000 s whatever the answers do, and counts the
// ones it could not start (dropped_iterations). Every setting comes from the environment
// (runner/load/k6.py writes them), so this file never changes between runs.
import http from "k6/http";
import { Counter } from "k6/metrics";

const env = __ENV;
const started = new Counter("bench_started");
const finished = new Counter("bench_finished");
const wrongLength = new Counter("bench_wrong_length");
const expectedLength = Number(env.BENCH_LENGTH || "0");

export const options = {
  scenarios: {
    open: {
      executor: "constant-arrival-rate",
      rate: Number(env.BENCH_RATE_MILLI),
      timeUnit: "1000s",
      duration: `${env.BENCH_DURATION_S}s`,
      preAllocatedVUs: Number(env.BENCH_VUS),
      maxVUs: Number(env.BENCH_VUS),
      gracefulStop: `${env.BENCH_GRACEFUL_S}s`,
    },
  },
  // Only the tags the runner reads: a smaller per-request file and less work for k6.
  systemTags: ["status", "error_code"],
  summaryTrendStats: ["min", "med", "p(90)", "p(99)", "p(99.9)", "max", "count"],
  discardResponseBodies: true,
  noCookiesReset: true,
};

export default function () {
  started.add(1);
  const res = http.get(env.BENCH_URL, { timeout: `${env.BENCH_TIMEOUT_S}s` });
  finished.add(1);
  const length = Number(res.headers["Content-Length"] || "-1");
  if (expectedLength > 0 && res.status === 200 && length !== expectedLength) {
    wrongLength.add(1);
  }
}

export function handleSummary(data) {
  return { "summary.json": JSON.stringify(data, null, 1) };
}
