//! Pure pieces of a stream's live statistics: the relay's packet filter, rate meters, the bounded position track
//! and the latest KLV telemetry. No sockets and no clock: callers pass `now` in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redoubt_fmv::st0601::{GeoPoint, UasDatalinkSet};
use redoubt_fmv::ts::{PACKET_SIZE, SYNC_BYTE};

/// What the relay forwards of one datagram: the TS packets, unchanged, and what it dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtered {
    /// The packets to relay (the datagram itself when it is wholly made of packets), if any.
    pub packets: Option<Bytes>,
    /// How many 188-byte packets that is.
    pub count: u64,
    /// Bytes not relayed: not on a packet boundary, a wrong sync byte, or a truncated tail.
    pub dropped_bytes: u64,
}

/// Keeps the 188-byte packets of a datagram that start with the sync byte, in order and unchanged. The common
/// case (a whole number of good packets, as every STANAG 4609 sender writes) costs no copy.
pub fn filter_datagram(datagram: Bytes) -> Filtered {
    let len = datagram.len();
    let good = |chunk: &[u8]| chunk.len() == PACKET_SIZE && chunk.first() == Some(&SYNC_BYTE);
    if len > 0 && len.is_multiple_of(PACKET_SIZE) && datagram.chunks(PACKET_SIZE).all(good) {
        return Filtered { count: (len / PACKET_SIZE) as u64, packets: Some(datagram), dropped_bytes: 0 };
    }
    let mut kept = Vec::with_capacity(len);
    for chunk in datagram.chunks(PACKET_SIZE).filter(|c| good(c)) {
        kept.extend_from_slice(chunk);
    }
    let count = (kept.len() / PACKET_SIZE) as u64;
    let dropped_bytes = (len - kept.len()) as u64;
    Filtered { packets: (!kept.is_empty()).then(|| Bytes::from(kept)), count, dropped_bytes }
}

/// Events per second over windows of about one second; the last complete window is reported (the running one
/// until a window has closed), and zero once nothing has arrived for two windows.
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    window_start: Option<Instant>,
    last: Option<Instant>,
    count: u64,
    rate: Option<f64>,
}

/// The measuring window of a [`RateMeter`].
const WINDOW: Duration = Duration::from_secs(1);
/// The shortest span a running rate is computed over (a burst is not an infinite rate).
const MIN_SPAN: Duration = Duration::from_millis(100);

impl RateMeter {
    /// A meter that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `n` at `now`. Returns the new rate when a window closed.
    pub fn add(&mut self, now: Instant, n: u64) -> Option<f64> {
        let start = *self.window_start.get_or_insert(now);
        self.last = Some(now);
        self.count = self.count.saturating_add(n);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            let rate = self.count as f64 / elapsed.as_secs_f64();
            self.rate = Some(rate);
            self.count = 0;
            self.window_start = Some(now);
            return Some(rate);
        }
        None
    }

    /// The rate at `now`.
    pub fn rate(&self, now: Instant) -> f64 {
        let (Some(start), Some(last)) = (self.window_start, self.last) else { return 0.0 };
        if now.saturating_duration_since(last) >= 2 * WINDOW {
            return 0.0;
        }
        match self.rate {
            Some(rate) => rate,
            None => self.count as f64 / now.saturating_duration_since(start).max(MIN_SPAN).as_secs_f64(),
        }
    }
}

/// The most positions kept in a stream's track.
pub const MAX_TRACK_POINTS: usize = 1000;

/// The platform's recent positions, oldest first, bounded (the oldest are forgotten).
#[derive(Debug, Clone, Default)]
pub struct Track {
    points: VecDeque<GeoPoint>,
}

impl Track {
    /// Adds a position unless it repeats the last one.
    pub fn push(&mut self, p: GeoPoint) {
        if self.points.back().is_some_and(|last| last.latitude == p.latitude && last.longitude == p.longitude)
        {
            return;
        }
        if self.points.len() >= MAX_TRACK_POINTS {
            self.points.pop_front();
        }
        self.points.push_back(p);
    }

    /// The positions, oldest first.
    pub fn points(&self) -> impl Iterator<Item = &GeoPoint> {
        self.points.iter()
    }

    /// As a GeoJSON Feature with a LineString geometry (`[longitude, latitude, altitude]`, RFC 7946 order).
    pub fn to_geojson(&self, id: &str, marking: &str) -> serde_json::Value {
        let coordinates: Vec<serde_json::Value> = self
            .points
            .iter()
            .map(|p| match p.altitude {
                Some(alt) => serde_json::json!([p.longitude, p.latitude, alt]),
                None => serde_json::json!([p.longitude, p.latitude]),
            })
            .collect();
        serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coordinates},
            "properties": {"stream": id, "marking": marking, "points": self.points.len()},
        })
    }
}

/// The latest values read from a stream's ST 0601 metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Telemetry {
    /// Platform (sensor) position: ST 0601 tags 13, 14, 15.
    pub platform: Option<GeoPoint>,
    /// Frame centre: tags 23, 24, 25.
    pub frame_center: Option<GeoPoint>,
    /// Platform heading, pitch, roll (tags 5, 6, 7).
    pub attitude: (Option<f64>, Option<f64>, Option<f64>),
    /// Precision time stamp (tag 2), RFC 3339.
    pub time: Option<String>,
    /// Mission id (tag 3).
    pub mission: Option<String>,
}

impl Telemetry {
    /// Updates from one ST 0601 set; absent items keep their last value.
    pub fn update(&mut self, set: &UasDatalinkSet) {
        if let Some(p) = set.sensor_position() {
            self.platform = Some(p);
        }
        if let Some(p) = set.frame_center() {
            self.frame_center = Some(p);
        }
        let (h, p, r) = set.platform_attitude();
        self.attitude = (h.or(self.attitude.0), p.or(self.attitude.1), r.or(self.attitude.2));
        if let Some(t) = set.precision_time() {
            self.time = Some(t.to_string());
        }
        if let Some(m) = set.mission_id() {
            self.mission = Some(m);
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let point = |p: &Option<GeoPoint>| {
            p.map(|p| serde_json::json!({"latitude": p.latitude, "longitude": p.longitude, "altitude": p.altitude}))
        };
        serde_json::json!({
            "platform": point(&self.platform),
            "sensor": point(&self.platform),
            "frame_center": point(&self.frame_center),
            "heading": self.attitude.0,
            "pitch": self.attitude.1,
            "roll": self.attitude.2,
            "precision_time": self.time,
            "mission_id": self.mission,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(fill: u8) -> Vec<u8> {
        let mut p = vec![fill; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p
    }

    #[test]
    fn whole_datagrams_pass_unchanged_and_garbage_is_dropped() {
        let good: Vec<u8> = [packet(1), packet(2)].concat();
        let f = filter_datagram(Bytes::from(good.clone()));
        assert_eq!(f.packets.as_deref(), Some(&good[..]));
        assert_eq!((f.count, f.dropped_bytes), (2, 0));

        let mut bad_sync = packet(3);
        bad_sync[0] = 0;
        let mixed: Vec<u8> = [packet(1), bad_sync, packet(2), vec![0x47; 100]].concat();
        let f = filter_datagram(Bytes::from(mixed));
        assert_eq!(f.packets.as_deref(), Some(&good[..]));
        assert_eq!((f.count, f.dropped_bytes), (2, 288));

        let f = filter_datagram(Bytes::from_static(b"not a transport stream"));
        assert_eq!((f.packets, f.count, f.dropped_bytes), (None, 0, 22));
        assert_eq!(filter_datagram(Bytes::new()).count, 0);
    }

    #[test]
    fn rate_meter_reports_per_second() {
        let t0 = Instant::now();
        let mut m = RateMeter::new();
        assert_eq!(m.rate(t0), 0.0);
        m.add(t0, 100);
        // A burst: the running rate over at least 100 ms.
        assert_eq!(m.rate(t0), 1000.0);
        assert_eq!(m.add(t0 + Duration::from_millis(500), 100), None);
        assert_eq!(m.rate(t0 + Duration::from_millis(500)), 400.0);
        assert_eq!(m.add(t0 + Duration::from_secs(1), 0), Some(200.0));
        assert_eq!(m.rate(t0 + Duration::from_millis(1500)), 200.0);
        assert_eq!(m.rate(t0 + Duration::from_secs(4)), 0.0);
    }

    #[test]
    fn track_is_bounded_and_skips_repeats() {
        let mut t = Track::default();
        for i in 0..(MAX_TRACK_POINTS + 10) {
            let p = GeoPoint { latitude: i as f64 / 1000.0, longitude: 1.0, altitude: None };
            t.push(p);
            t.push(p);
        }
        assert_eq!(t.points().count(), MAX_TRACK_POINTS);
        assert_eq!(t.points().next().unwrap().latitude, 0.01);
        let g = t.to_geojson("s", "UNCLASSIFIED");
        assert_eq!(g["geometry"]["type"], "LineString");
        assert_eq!(g["geometry"]["coordinates"][0][0], 1.0);
    }
}
