//! Minimal civil date/time arithmetic for the simulation (local hospital time, no time zone).

const MS_PER_MIN: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of week of a day number, 0 = Monday … 6 = Sunday.
pub(crate) fn weekday(day: i64) -> i64 {
    // 1970-01-01 was a Thursday (3).
    (day + 3).rem_euclid(7)
}

/// A point in local time, in milliseconds since 1970-01-01 00:00:00.000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ts(pub(crate) i64);

impl Ts {
    /// `minute` minutes after midnight of day number `day`.
    pub(crate) fn at(day: i64, minute: i64) -> Ts {
        Ts(day * MS_PER_DAY + minute * MS_PER_MIN)
    }

    /// This time plus `minutes`.
    pub(crate) fn plus_min(self, minutes: i64) -> Ts {
        Ts(self.0 + minutes * MS_PER_MIN)
    }

    /// This time plus `ms` milliseconds.
    pub(crate) fn plus_ms(self, ms: i64) -> Ts {
        Ts(self.0 + ms)
    }

    /// The day number (days since 1970-01-01).
    pub(crate) fn day(self) -> i64 {
        self.0.div_euclid(MS_PER_DAY)
    }

    /// Minutes since midnight.
    pub(crate) fn minute_of_day(self) -> i64 {
        self.0.rem_euclid(MS_PER_DAY) / MS_PER_MIN
    }

    fn parts(self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let (y, mo, d) = civil_from_days(self.day());
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let h = ms_of_day / 3_600_000;
        let mi = ms_of_day / 60_000 % 60;
        let s = ms_of_day / 1000 % 60;
        let ms = ms_of_day % 1000;
        (y, mo, d, h, mi, s, ms)
    }

    /// `YYYYMMDD`.
    pub(crate) fn date8(self) -> String {
        let (y, mo, d, ..) = self.parts();
        format!("{y:04}{mo:02}{d:02}")
    }

    /// `YYYYMMDDHHMM`.
    pub(crate) fn dt12(self) -> String {
        let (y, mo, d, h, mi, ..) = self.parts();
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}")
    }

    /// `YYYYMMDDHHMMSS`.
    pub(crate) fn dt14(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.parts();
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
    }

    /// `YYYYMMDDHHMMSS.fff` (MSH-7 with millisecond precision).
    pub(crate) fn msh7(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}.{ms:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(weekday(days_from_civil(2025, 4, 7)), 0); // a Monday
    }

    #[test]
    fn formats() {
        let t = Ts::at(days_from_civil(2025, 4, 7), 9 * 60 + 5).plus_ms(7_123);
        assert_eq!(t.date8(), "20250407");
        assert_eq!(t.dt12(), "202504070905");
        assert_eq!(t.dt14(), "20250407090507");
        assert_eq!(t.msh7(), "20250407090507.123");
        assert_eq!(t.minute_of_day(), 545);
    }
}
