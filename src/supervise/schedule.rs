//! When a collector runs: every interval (`30s`, `5m`, `every 1h`), or on a
//! cron line (`*/10 * * * *`, `0 6 * * mon-fri`, `@daily`), in UTC.

use anyhow::{anyhow, bail, Result};
use chrono::{DateTime, Datelike, Duration as CDuration, Timelike, Utc};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Run at start, then this long after each run started.
    Every(Duration),
    Cron(Cron),
}

/// Five cron fields as bit sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minute: u64,
    hour: u32,
    dom: u32,
    month: u16,
    dow: u8,
    dom_any: bool,
    dow_any: bool,
    /// The fields as written, for systemd's OnCalendar.
    pub fields: [String; 5],
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn field(s: &str, lo: u32, hi: u32, names: &[&str], name_base: u32) -> Result<(u64, bool)> {
    let value = |v: &str| -> Result<u32> {
        let l = v.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == l) {
            return Ok(i as u32 + name_base);
        }
        let n: u32 = v.parse().map_err(|_| anyhow!("bad cron value {v:?}"))?;
        if n < lo || n > hi {
            bail!("cron value {n} out of {lo}-{hi}");
        }
        Ok(n)
    };
    let mut bits = 0u64;
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => {
                let st: u32 = st.parse().map_err(|_| anyhow!("bad cron step {st:?}"))?;
                if st == 0 {
                    bail!("cron step 0");
                }
                (r, st)
            }
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let a = value(range)?;
            // `5/15` means from 5 to the end, as in Vixie cron.
            (a, if step > 1 { hi } else { a })
        };
        if a > b {
            bail!("cron range {range:?} runs backwards");
        }
        let mut v = a;
        while v <= b {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, s == "*"))
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule> {
        let t = s.trim();
        let t = match t {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            _ => t,
        };
        let words: Vec<&str> = t.split_whitespace().collect();
        if words.len() == 5 {
            let (minute, _) = field(words[0], 0, 59, &[], 0)?;
            let (hour, _) = field(words[1], 0, 23, &[], 0)?;
            let (dom, dom_any) = field(words[2], 1, 31, &[], 0)?;
            let (month, _) = field(words[3], 1, 12, &MONTHS, 1)?;
            let (mut dow, dow_any) = field(words[4], 0, 7, &DAYS, 0)?;
            if dow & (1 << 7) != 0 {
                dow = (dow | 1) & 0x7f;
            }
            return Ok(Schedule::Cron(Cron {
                minute,
                hour: hour as u32,
                dom: dom as u32,
                month: month as u16,
                dow: dow as u8,
                dom_any,
                dow_any,
                fields: std::array::from_fn(|i| words[i].to_string()),
            }));
        }
        let iv = t.strip_prefix("every").unwrap_or(t).trim();
        super::config::parse_duration(iv)
            .map(Schedule::Every)
            .map_err(|_| {
                anyhow!(
                    "{s:?} is neither an interval (30s, 5m, every 1h) nor a cron line (5 fields)"
                )
            })
    }

    /// The first run at or after `start` (an interval runs at once).
    pub fn first(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(_) => Some(start),
            Schedule::Cron(c) => c.next_after(start - CDuration::seconds(1)),
        }
    }

    /// The next run after a run that started at `last`.
    pub fn next(&self, last: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(d) => Some(last + CDuration::from_std(*d).ok()?),
            Schedule::Cron(c) => c.next_after(last),
        }
    }
}

fn list(bits: u64, lo: u32, hi: u32, names: Option<&[&str]>) -> String {
    if (lo..=hi).all(|v| bits & (1 << v) != 0) {
        return "*".into();
    }
    let v: Vec<String> = (lo..=hi)
        .filter(|v| bits & (1 << v) != 0)
        .map(|v| match names {
            Some(n) => n[v as usize].to_string(),
            None => format!("{v:02}"),
        })
        .collect();
    v.join(",")
}

impl Cron {
    /// The schedule as systemd `OnCalendar=` values (UTC). Two values when both
    /// day fields are restricted: cron runs when either matches, systemd's
    /// calendar needs both.
    pub fn on_calendar(&self) -> Vec<String> {
        const SD_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        let time = format!(
            "{}:{}:00",
            list(self.hour as u64, 0, 23, None),
            list(self.minute, 0, 59, None)
        );
        let month = list(self.month as u64, 1, 12, None);
        let dom = list(self.dom as u64, 1, 31, None);
        let dow = list(self.dow as u64, 0, 6, Some(&SD_DAYS));
        let with_dow = format!("{dow} *-{month}-* {time} UTC");
        let with_dom = format!("*-{month}-{dom} {time} UTC");
        match (self.dom_any, self.dow_any) {
            (true, true) => vec![format!("*-{month}-* {time} UTC")],
            (false, true) => vec![with_dom],
            (true, false) => vec![with_dow],
            (false, false) => vec![with_dom, with_dow],
        }
    }

    fn day_matches(&self, t: &DateTime<Utc>) -> bool {
        let dom = self.dom & (1 << t.day()) != 0;
        let dow = self.dow & (1 << t.weekday().num_days_from_sunday()) != 0;
        // Vixie cron: when both day fields are restricted, either may match.
        match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (false, true) => dom,
            (true, false) => dow,
            (false, false) => dom || dow,
        }
    }

    /// The first whole minute strictly after `t` that matches; None when no date
    /// in the next five years does (`0 0 31 2 *`).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut c = (t + CDuration::minutes(1))
            .with_second(0)?
            .with_nanosecond(0)?;
        let limit = t + CDuration::days(366 * 5);
        while c < limit {
            if self.month & (1 << c.month()) == 0 || !self.day_matches(&c) {
                // Skip to the next day's midnight.
                c = (c + CDuration::days(1)).with_hour(0)?.with_minute(0)?;
                continue;
            }
            if self.hour & (1 << c.hour()) == 0 {
                c = (c + CDuration::hours(1)).with_minute(0)?;
                continue;
            }
            if self.minute & (1 << c.minute()) == 0 {
                c += CDuration::minutes(1);
                continue;
            }
            return Some(c);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn intervals() {
        assert_eq!(
            Schedule::parse("every 5m").unwrap(),
            Schedule::Every(Duration::from_secs(300))
        );
        assert_eq!(
            Schedule::parse("2s").unwrap(),
            Schedule::Every(Duration::from_secs(2))
        );
        let s = Schedule::parse("1h").unwrap();
        let t = at(2026, 1, 1, 0, 0);
        assert_eq!(s.first(t), Some(t));
        assert_eq!(s.next(t), Some(at(2026, 1, 1, 1, 0)));
    }

    #[test]
    fn cron() {
        let s = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(s.next(at(2026, 1, 1, 0, 0)), Some(at(2026, 1, 1, 0, 15)));
        assert_eq!(s.first(at(2026, 1, 1, 0, 0)), Some(at(2026, 1, 1, 0, 0)));
        let s = Schedule::parse("30 6 * * mon-fri").unwrap();
        // 2026-01-03 is a Saturday.
        assert_eq!(s.next(at(2026, 1, 3, 7, 0)), Some(at(2026, 1, 5, 6, 30)));
        let s = Schedule::parse("0 0 1,15 * 7").unwrap();
        // Either the 1st/15th or a Sunday (2026-01-04).
        assert_eq!(s.next(at(2026, 1, 1, 0, 0)), Some(at(2026, 1, 4, 0, 0)));
        let s = Schedule::parse("@monthly").unwrap();
        assert_eq!(s.next(at(2026, 12, 5, 0, 0)), Some(at(2027, 1, 1, 0, 0)));
        assert_eq!(
            Schedule::parse("0 0 31 2 *")
                .unwrap()
                .next(at(2026, 1, 1, 0, 0)),
            None
        );
        for bad in [
            "61 * * * *",
            "* * * * * *",
            "*/0 * * * *",
            "5-1 * * * *",
            "x",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
