//! What a queue tells a metrics recorder, through the [`metrics`] facade
//! (feature `metrics`, on by default): counters of puts, gets, acks, nacks
//! and failures, histograms of flush latency and group-commit batch size,
//! a gauge of queue depth, each labelled `queue` (the name, or the file
//! `Queue`'s directory) and `kind`.
//!
//! The handles are registered once, when the queue opens, with the
//! recorder installed then (install yours before opening queues); with no
//! recorder they are no-ops, so an operation pays one branch per metric.
//! Without the feature this is an empty type and costs nothing.
//!
//! | metric | type | when |
//! |---|---|---|
//! | `persist_queue_puts_total` | counter | items put |
//! | `persist_queue_gets_total` | counter | items handed to consumers |
//! | `persist_queue_acks_total` | counter | items acked (`task_done`'s items for the file `Queue`) |
//! | `persist_queue_nacks_total` | counter | items given back |
//! | `persist_queue_ack_failed_total` | counter | items failed for good |
//! | `persist_queue_flush_seconds` | histogram | each group commit (one transaction or flush) |
//! | `persist_queue_commit_batch_size` | histogram | callers served by each group commit |
//! | `persist_queue_depth` | gauge | items ready, when the queue counts them (the file `Queue`: every put and get) |
//! | `persist_queue_in_flight`, `_delayed`, `_dead_letters` | gauges | record queues' leased, delayed and dead items, at each `stats()` |
//! | `persist_queue_expired_leases` | gauge | in-flight items whose lease ended, not yet taken back, at each `stats()` |
//! | `persist_queue_oldest_ready_age_seconds` | gauge | how long the oldest ready item has waited (0: none), at each `stats()` |

use std::time::Duration;

/// A queue's metric handles.
#[derive(Clone)]
pub(crate) struct QueueMetrics {
    #[cfg(feature = "metrics")]
    handles: std::sync::Arc<Handles>,
}

#[cfg(feature = "metrics")]
struct Handles {
    puts: metrics::Counter,
    gets: metrics::Counter,
    acks: metrics::Counter,
    nacks: metrics::Counter,
    failed: metrics::Counter,
    flush: metrics::Histogram,
    batch: metrics::Histogram,
    depth: metrics::Gauge,
    in_flight: metrics::Gauge,
    delayed: metrics::Gauge,
    dead: metrics::Gauge,
    expired: metrics::Gauge,
    oldest_age: metrics::Gauge,
}

impl QueueMetrics {
    /// The handles of the queue `queue` of kind `kind`.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(queue: &str, kind: &'static str) -> QueueMetrics {
        #[cfg(feature = "metrics")]
        {
            let labels = [("queue", queue.to_string()), ("kind", kind.to_string())];
            let handles = Handles {
                puts: metrics::counter!("persist_queue_puts_total", &labels),
                gets: metrics::counter!("persist_queue_gets_total", &labels),
                acks: metrics::counter!("persist_queue_acks_total", &labels),
                nacks: metrics::counter!("persist_queue_nacks_total", &labels),
                failed: metrics::counter!("persist_queue_ack_failed_total", &labels),
                flush: metrics::histogram!("persist_queue_flush_seconds", &labels),
                batch: metrics::histogram!("persist_queue_commit_batch_size", &labels),
                depth: metrics::gauge!("persist_queue_depth", &labels),
                in_flight: metrics::gauge!("persist_queue_in_flight", &labels),
                delayed: metrics::gauge!("persist_queue_delayed", &labels),
                dead: metrics::gauge!("persist_queue_dead_letters", &labels),
                expired: metrics::gauge!("persist_queue_expired_leases", &labels),
                oldest_age: metrics::gauge!("persist_queue_oldest_ready_age_seconds", &labels),
            };
            QueueMetrics { handles: std::sync::Arc::new(handles) }
        }
        #[cfg(not(feature = "metrics"))]
        QueueMetrics {}
    }

    /// `n` items were put.
    pub(crate) fn put(&self, n: usize) {
        #[cfg(feature = "metrics")]
        self.handles.puts.increment(n as u64);
        let _ = n;
    }

    /// `n` items were handed out.
    pub(crate) fn got(&self, n: usize) {
        #[cfg(feature = "metrics")]
        self.handles.gets.increment(n as u64);
        let _ = n;
    }

    /// `n` items were acked.
    pub(crate) fn acked(&self, n: usize) {
        #[cfg(feature = "metrics")]
        self.handles.acks.increment(n as u64);
        let _ = n;
    }

    /// An item was given back.
    pub(crate) fn nacked(&self) {
        #[cfg(feature = "metrics")]
        self.handles.nacks.increment(1);
    }

    /// An item failed for good.
    pub(crate) fn failed(&self) {
        #[cfg(feature = "metrics")]
        self.handles.failed.increment(1);
    }

    /// A group commit served `callers` in `took`.
    pub(crate) fn committed(&self, callers: usize, took: Duration) {
        #[cfg(feature = "metrics")]
        {
            self.handles.flush.record(took.as_secs_f64());
            self.handles.batch.record(callers as f64);
        }
        let _ = (callers, took);
    }

    /// A record queue's state, as `stats()` read it.
    pub(crate) fn stats(&self, s: &crate::records::QueueStats) {
        #[cfg(feature = "metrics")]
        {
            let h = &self.handles;
            h.depth.set(s.ready as f64);
            h.in_flight.set(s.in_flight as f64);
            h.delayed.set(s.delayed as f64);
            h.dead.set(s.dead as f64);
            h.expired.set(s.expired_leases as f64);
            h.oldest_age.set(s.oldest_ready_age.map_or(0.0, |a| a.as_secs_f64()));
        }
        let _ = s;
    }

    /// `n` items are ready.
    pub(crate) fn depth(&self, n: u64) {
        #[cfg(feature = "metrics")]
        self.handles.depth.set(n as f64);
        let _ = n;
    }
}
