//! Structured logs: one JSON object per line.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// Where log lines go.
#[derive(Debug, Clone, Default)]
pub enum LogSink {
    /// Standard error, one JSON object per line.
    #[default]
    Stderr,
    /// Nowhere (benchmarks).
    Discard,
    /// An in-memory buffer, for embedding and tests.
    Buffer(Arc<Mutex<Vec<u8>>>),
}

impl LogSink {
    /// Writes one line: `ts` and `level` first, then `fields`.
    pub fn write(&self, level: &str, fields: Map<String, Value>) {
        if matches!(self, LogSink::Discard) {
            return;
        }
        let mut record = Map::with_capacity(fields.len() + 2);
        record.insert("ts".to_owned(), Value::String(timestamp(SystemTime::now())));
        record.insert("level".to_owned(), Value::String(level.to_owned()));
        record.extend(fields);
        let mut line = Value::Object(record).to_string();
        line.push('\n');
        match self {
            LogSink::Stderr => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
            LogSink::Buffer(buffer) => {
                if let Ok(mut buffer) = buffer.lock() {
                    buffer.extend_from_slice(line.as_bytes());
                }
            }
            LogSink::Discard => {}
        }
    }

    /// A line with a message and fields given as pairs.
    pub fn event(&self, level: &str, message: &str, fields: &[(&str, Value)]) {
        let mut map = Map::new();
        map.insert("msg".to_owned(), Value::String(message.to_owned()));
        for (key, value) in fields {
            map.insert((*key).to_owned(), value.clone());
        }
        self.write(level, map);
    }
}

/// RFC 3339 UTC time with milliseconds.
pub fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian).
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(timestamp(t), "2000-02-29T12:34:56.789Z");
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn buffer_gets_json_lines() {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = LogSink::Buffer(buffer.clone());
        sink.event("info", "hello", &[("n", Value::from(2))]);
        sink.event("error", "bye", &[]);
        let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["msg"], "hello");
        assert_eq!(lines[0]["n"], 2);
        assert_eq!(lines[1]["level"], "error");
        assert!(lines[1]["ts"].as_str().unwrap().ends_with('Z'));
    }
}
