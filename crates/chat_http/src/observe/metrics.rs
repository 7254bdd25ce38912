//! The Prometheus series the server keeps: requests by route and status, their latency,
//! the database pool, why live sockets ended, and webhook deliveries.

use std::time::Duration;

use chat_app::{DeliveryCounts, PoolState};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
};

/// The server's Prometheus registry and the series it keeps.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    live_closed: IntCounterVec,
    webhook_deliveries: IntCounterVec,
    webhook_pending: IntGauge,
    webhook_oldest: Gauge,
}

/// The webhook series as of now: this node's deliveries by outcome, and every node's
/// backlog (`None` when the database did not answer).
#[derive(Debug, Clone, Copy)]
pub struct WebhookGauges {
    pub counts: DeliveryCounts,
    pub backlog: Option<(i64, Option<Duration>)>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served"),
            labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response head",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            labels,
        )?;
        let pool_connections = IntGauge::new(
            "db_pool_connections",
            "Open database connections in the pool",
        )?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        let pool_max = IntGauge::new("db_pool_max_connections", "Maximum pool size")?;
        let live_closed = IntCounterVec::new(
            Opts::new(
                "chat_live_sockets_closed_total",
                "Live sockets (WebSockets) that ended, by why",
            ),
            &["reason"],
        )?;
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery attempts made by this node, by result (delivered, retry, failed)",
            ),
            &["result"],
        )?;
        let webhook_pending = IntGauge::new(
            "webhook_deliveries_pending",
            "Webhook deliveries waiting to be made or retried (every node's)",
        )?;
        let webhook_oldest = Gauge::new(
            "webhook_oldest_pending_seconds",
            "How long the oldest due webhook delivery has waited (0 when none is due)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(live_closed.clone()))?;
        registry.register(Box::new(webhook_deliveries.clone()))?;
        registry.register(Box::new(webhook_pending.clone()))?;
        registry.register(Box::new(webhook_oldest.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            pool_max,
            live_closed,
            webhook_deliveries,
            webhook_pending,
            webhook_oldest,
        })
    }

    pub(super) fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Counts a live socket that ended, under `reason`.
    pub(crate) fn live_closed(&self, reason: &str) {
        self.live_closed.with_label_values(&[reason]).inc();
    }

    /// Brings the webhook series up to `gauges`: the counters catch up with the
    /// delivery's own counts (which only grow).
    pub fn set_webhooks(&self, gauges: WebhookGauges) {
        let counts = gauges.counts;
        for (result, total) in [
            ("delivered", counts.delivered),
            ("retry", counts.retry),
            ("failed", counts.failed),
        ] {
            let counter = self.webhook_deliveries.with_label_values(&[result]);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        if let Some((pending, oldest)) = gauges.backlog {
            self.webhook_pending.set(pending);
            self.webhook_oldest
                .set(oldest.map_or(0.0, |age| age.as_secs_f64()));
        }
    }

    /// The exposition text, with the pool gauges as of now.
    pub fn render(&self, pool: PoolState) -> Result<String, prometheus::Error> {
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max_size));
        let mut buffer = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
