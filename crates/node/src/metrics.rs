//! Node metrics in OpenMetrics text: build info, uptime, HTTP requests by route and status, request latency,
//! connections and TLS handshake failures. Routes are the matched route templates, never raw paths, so a
//! client cannot grow the label set.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// Content type of [`Metrics::render`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DecisionLabels {
    decision: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// The node's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    started: Instant,
    uptime: Gauge<f64, AtomicU64>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    decisions: Family<DecisionLabels, Counter>,
    /// Open TLS connections.
    pub connections: Gauge,
    /// TLS handshakes that failed or timed out (bad or foreign client certificates among them).
    pub handshake_failures: Counter,
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("redoubt");
        registry.register(
            "build",
            "Redoubt build information",
            Info::new(BuildLabels { version: env!("CARGO_PKG_VERSION").to_owned() }),
        );
        let uptime = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit("uptime", "Time since the node started", Unit::Seconds, uptime.clone());
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route, method and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "HTTP request latency, from request head to response head",
            Unit::Seconds,
            latency.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("decisions", "Access decisions by outcome (allow, deny)", decisions.clone());
        let connections = Gauge::default();
        registry.register("tls_connections_open", "Open TLS connections", connections.clone());
        let handshake_failures = Counter::default();
        registry.register(
            "tls_handshake_failures",
            "TLS handshakes that failed or timed out",
            handshake_failures.clone(),
        );
        Arc::new(Self {
            registry,
            started: Instant::now(),
            uptime,
            requests,
            latency,
            decisions,
            connections,
            handshake_failures,
        })
    }

    /// Records one finished request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { route: route.to_owned(), method: method.to_owned(), status })
            .inc();
        self.latency.get_or_create(&RouteLabels { route: route.to_owned() }).observe(seconds);
    }

    /// Records one access decision.
    pub fn observe_decision(&self, permit: bool) {
        self.decisions
            .get_or_create(&DecisionLabels { decision: if permit { "allow" } else { "deny" } })
            .inc();
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        self.uptime.set(self.started.elapsed().as_secs_f64());
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family_and_eof() {
        let m = Metrics::new();
        m.observe_request("/healthz", "GET", 200, 0.001);
        let text = m.render().unwrap();
        for needle in [
            "redoubt_build_info{version=",
            "redoubt_uptime_seconds ",
            "redoubt_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1",
            "redoubt_http_request_duration_seconds_bucket{le=",
            "redoubt_tls_handshake_failures_total 0",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
