//! Counters and latency histograms, written in the Prometheus text format at `GET /metrics`.
//! Everything is a fixed array of atomics: counting costs no lock on the hot path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aipolicy::{Decision, Paragraph, Verdict};

/// The endpoints, as metrics label them (`other` for any path not served).
pub const ENDPOINTS: [&str; 17] = [
    "/v1/decide",
    "/v1/batch",
    "/access/v1/evaluation",
    "/access/v1/evaluations",
    "/access/v1/search/resource",
    "/.well-known/authzen-configuration",
    "/health/live",
    "/health/ready",
    "/metrics",
    "/v1/status",
    "/v1/admin/reload",
    "/",
    "/ask",
    "/matrix",
    "/policy",
    "/staff-page.css",
    "other",
];

/// The index of an endpoint in [`ENDPOINTS`] (the index of `other` for an unknown path).
pub fn endpoint_index(path: &str) -> usize {
    ENDPOINTS
        .iter()
        .position(|e| *e == path)
        .unwrap_or(ENDPOINTS.len() - 1)
}

/// Status codes counted one by one; any other is counted under its class (`2xx` …).
const STATUSES: [u16; 12] = [200, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const STATUS_SLOTS: usize = STATUSES.len() + CLASSES.len();

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(at) = BUCKETS.iter().position(|&b| seconds <= b) {
            self.buckets[at].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; STATUS_SLOTS]; ENDPOINTS.len()],
    latency: [Histogram; ENDPOINTS.len()],
    decisions: [AtomicU64; 2],
    /// By verdict, then paragraph (in [`Paragraph::ALL`] order, then one for any other code).
    paragraphs: [[AtomicU64; Paragraph::ALL.len() + 1]; 2],
    reloads_good: AtomicU64,
    reloads_failed: AtomicU64,
    token_file_reloads: [AtomicU64; 2],
    rejected: [AtomicU64; REJECTIONS.len()],
    in_flight: AtomicU64,
}

/// Why a request was turned away before it was decided, as `aipolicy_http_rejected_total`
/// labels it.
pub const REJECTIONS: [&str; 5] = [
    "unauthenticated",
    "forbidden",
    "overloaded",
    "timeout",
    "too_large",
];

/// One of [`REJECTIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// 401.
    Unauthenticated = 0,
    /// 403.
    Forbidden = 1,
    /// 503 for the concurrency limit.
    Overloaded = 2,
    /// 503 for the time limit.
    Timeout = 3,
    /// 413.
    TooLarge = 4,
}

impl Metrics {
    /// Counts a request answered with `status` after `elapsed`.
    pub fn request(&self, endpoint: usize, status: u16, elapsed: Duration) {
        let endpoint = endpoint.min(ENDPOINTS.len() - 1);
        let slot = STATUSES
            .iter()
            .position(|&s| s == status)
            .unwrap_or_else(|| STATUSES.len() + usize::from((status / 100).clamp(1, 5) - 1));
        self.requests[endpoint][slot].fetch_add(1, Ordering::Relaxed);
        self.latency[endpoint].observe(elapsed);
    }

    /// Counts a decision, by its verdict and by each paragraph of its reasons or duties.
    pub fn decision(&self, decision: &Decision) {
        let verdict = usize::from(decision.decision == Verdict::Deny);
        self.decisions[verdict].fetch_add(1, Ordering::Relaxed);
        for code in decision.paragraphs() {
            let at = Paragraph::ALL
                .iter()
                .position(|p| p.code() == code)
                .unwrap_or(Paragraph::ALL.len());
            self.paragraphs[verdict][at].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a reload.
    pub fn reload(&self, good: bool) {
        if good {
            self.reloads_good.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a reload of the token file.
    pub fn token_file_reload(&self, good: bool) {
        self.token_file_reloads[usize::from(!good)].fetch_add(1, Ordering::Relaxed);
    }

    /// Reloads so far: (good, failed).
    pub fn reloads(&self) -> (u64, u64) {
        (
            self.reloads_good.load(Ordering::Relaxed),
            self.reloads_failed.load(Ordering::Relaxed),
        )
    }

    /// Counts a request turned away.
    pub fn rejected(&self, why: Rejection) {
        self.rejected[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A request started (`true`) or ended.
    pub fn in_flight(&self, started: bool) {
        if started {
            self.in_flight.fetch_add(1, Ordering::Relaxed);
        } else {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, extra: &Gauges) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let status_label = |slot: usize| {
            STATUSES.get(slot).map_or_else(
                || CLASSES[slot - STATUSES.len()].to_string(),
                u16::to_string,
            )
        };
        let endpoints = ENDPOINTS.iter().enumerate();

        out.push_str("# HELP aipolicy_http_requests_total HTTP requests answered, by endpoint and status code.\n");
        out.push_str("# TYPE aipolicy_http_requests_total counter\n");
        for (i, endpoint) in endpoints.clone() {
            for (slot, count) in self.requests[i].iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let _ = writeln!(
                        out,
                        "aipolicy_http_requests_total{{endpoint=\"{endpoint}\",status=\"{}\"}} {count}",
                        status_label(slot)
                    );
                }
            }
        }

        out.push_str("# HELP aipolicy_http_request_duration_seconds Time from a request's arrival to its answer, by endpoint.\n");
        out.push_str("# TYPE aipolicy_http_request_duration_seconds histogram\n");
        for (i, endpoint) in endpoints {
            let histogram = &self.latency[i];
            let count = histogram.count.load(Ordering::Relaxed);
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "aipolicy_http_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "aipolicy_http_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {count}"
            );
            let sum = histogram.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "aipolicy_http_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "aipolicy_http_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {count}"
            );
        }

        out.push_str("# HELP aipolicy_http_rejected_total Requests turned away before a decision, by reason.\n");
        out.push_str("# TYPE aipolicy_http_rejected_total counter\n");
        for (name, count) in REJECTIONS.iter().zip(&self.rejected) {
            let _ = writeln!(
                out,
                "aipolicy_http_rejected_total{{reason=\"{name}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }

        out.push_str("# HELP aipolicy_http_requests_in_flight Requests being answered now.\n");
        out.push_str("# TYPE aipolicy_http_requests_in_flight gauge\n");
        let _ = writeln!(
            out,
            "aipolicy_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );

        out.push_str(
            "# HELP aipolicy_decisions_total Decisions made (batch items included), by verdict.\n",
        );
        out.push_str("# TYPE aipolicy_decisions_total counter\n");
        for (verdict, count) in ["allow", "deny"].iter().zip(&self.decisions) {
            let _ = writeln!(
                out,
                "aipolicy_decisions_total{{decision=\"{verdict}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }

        out.push_str("# HELP aipolicy_decision_paragraphs_total Decisions by verdict and by each paragraph among their reasons (deny) or duties (allow).\n");
        out.push_str("# TYPE aipolicy_decision_paragraphs_total counter\n");
        for (verdict, counts) in ["allow", "deny"].iter().zip(&self.paragraphs) {
            for (i, count) in counts.iter().enumerate() {
                let code = Paragraph::ALL.get(i).map_or("other", |p| p.code());
                let count = count.load(Ordering::Relaxed);
                if count > 0 || i < Paragraph::ALL.len() {
                    let _ = writeln!(
                        out,
                        "aipolicy_decision_paragraphs_total{{decision=\"{verdict}\",paragraph=\"{code}\"}} {count}"
                    );
                }
            }
        }

        out.push_str("# HELP aipolicy_reloads_total Policy loads after the first, by result.\n");
        out.push_str("# TYPE aipolicy_reloads_total counter\n");
        let (good, failed) = self.reloads();
        let _ = writeln!(out, "aipolicy_reloads_total{{result=\"success\"}} {good}");
        let _ = writeln!(out, "aipolicy_reloads_total{{result=\"failure\"}} {failed}");

        out.push_str("# HELP aipolicy_token_file_reloads_total Reads of the token file after the first, by result.\n");
        out.push_str("# TYPE aipolicy_token_file_reloads_total counter\n");
        for (result, count) in ["success", "failure"].iter().zip(&self.token_file_reloads) {
            let _ = writeln!(
                out,
                "aipolicy_token_file_reloads_total{{result=\"{result}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP aipolicy_token_file_broken Whether the token file as last read has a broken line (then only the callers both it and the last good file name are let in).\n");
        out.push_str("# TYPE aipolicy_token_file_broken gauge\n");
        let _ = writeln!(
            out,
            "aipolicy_token_file_broken {}",
            u8::from(extra.token_file_broken)
        );

        out.push_str(
            "# HELP aipolicy_ready Whether a policy is loaded and decisions are served.\n",
        );
        out.push_str("# TYPE aipolicy_ready gauge\n");
        let _ = writeln!(out, "aipolicy_ready {}", u8::from(extra.revision.is_some()));
        if let Some(revision) = &extra.revision {
            out.push_str("# HELP aipolicy_policy_info The policy revision in force.\n");
            out.push_str("# TYPE aipolicy_policy_info gauge\n");
            let _ = writeln!(out, "aipolicy_policy_info{{revision=\"{revision}\"}} 1");
            out.push_str("# HELP aipolicy_policy_loaded_timestamp_seconds When the policy in force was loaded.\n");
            out.push_str("# TYPE aipolicy_policy_loaded_timestamp_seconds gauge\n");
            let _ = writeln!(
                out,
                "aipolicy_policy_loaded_timestamp_seconds {}",
                extra.loaded_at
            );
        }

        out.push_str(
            "# HELP aipolicy_decision_log_queue_depth Decision records waiting to be written.\n",
        );
        out.push_str("# TYPE aipolicy_decision_log_queue_depth gauge\n");
        let _ = writeln!(
            out,
            "aipolicy_decision_log_queue_depth {}",
            extra.log_queue_depth
        );
        out.push_str("# HELP aipolicy_decision_log_dropped_total Decision records dropped because the log's queue was full.\n");
        out.push_str("# TYPE aipolicy_decision_log_dropped_total counter\n");
        let _ = writeln!(
            out,
            "aipolicy_decision_log_dropped_total {}",
            extra.log_dropped
        );
        out
    }
}

/// Values that are not counted here but read when metrics are rendered.
#[derive(Debug, Default)]
pub struct Gauges {
    /// The revision in force, when ready.
    pub revision: Option<std::sync::Arc<str>>,
    /// When it was loaded (Unix seconds).
    pub loaded_at: f64,
    /// Whether the token file as last read has a broken line.
    pub token_file_broken: bool,
    /// Records in the decision log's queue.
    pub log_queue_depth: u64,
    /// Records the decision log dropped.
    pub log_dropped: u64,
}
