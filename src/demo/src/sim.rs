//! The hospital simulation: patients, visits, stays and the HL7 messages they cause.

use crate::data::{
    ALLERGIES, AREAS, CHEMISTRY, DIETS, DISEASES, Dept, ECG, ECG_FINDINGS, ENDO_BIOPSY, ENDO_DONE, ENDO_ORDER,
    FAMILY_NAMES, FEMALE_NAMES, HEMATOLOGY, HOSPITALS, HospitalDef, INFUSIONS, INSURANCE, Infusion, LabItem,
    MALE_NAMES, ORAL_DRUGS, OralDrug, Staff, XRAY,
};
use crate::rng::Rng;
use crate::seg::{Seg, cwe, msh, xcn};
use crate::time::{Ts, days_from_civil, weekday};
use crate::{DemoConfig, DemoMessage, Processing};

/// An HL7 message type as it appears in MSH-9 (type^trigger^structure).
#[derive(Debug, Clone, Copy)]
struct Mt {
    /// `type^trigger`.
    hl7: &'static str,
    /// `type^trigger^structure`.
    msh9: &'static str,
}

macro_rules! mts {
    ($($name:ident = $t:literal, $s:literal;)*) => {
        $(const $name: Mt = Mt { hl7: $t, msh9: concat!($t, "^", $s) };)*
    };
}

mts! {
    ADT_A01 = "ADT^A01", "ADT_A01";
    ADT_A02 = "ADT^A02", "ADT_A02";
    ADT_A03 = "ADT^A03", "ADT_A03";
    ADT_A04 = "ADT^A04", "ADT_A01";
    ADT_A08 = "ADT^A08", "ADT_A01";
    ADT_A11 = "ADT^A11", "ADT_A09";
    ADT_A12 = "ADT^A12", "ADT_A12";
    ADT_A13 = "ADT^A13", "ADT_A01";
    ADT_A14 = "ADT^A14", "ADT_A05";
    ADT_A15 = "ADT^A15", "ADT_A15";
    ADT_A16 = "ADT^A16", "ADT_A16";
    ADT_A21 = "ADT^A21", "ADT_A21";
    ADT_A22 = "ADT^A22", "ADT_A21";
    ADT_A23 = "ADT^A23", "ADT_A21";
    ADT_A25 = "ADT^A25", "ADT_A21";
    ADT_A26 = "ADT^A26", "ADT_A21";
    ADT_A27 = "ADT^A27", "ADT_A21";
    ADT_A52 = "ADT^A52", "ADT_A52";
    ADT_A53 = "ADT^A53", "ADT_A52";
    ADT_A54 = "ADT^A54", "ADT_A54";
    ADT_A55 = "ADT^A55", "ADT_A52";
    ADT_A60 = "ADT^A60", "ADT_A60";
    PPR_ZD1 = "PPR^ZD1", "PPR_ZD1";
    OMD_O03 = "OMD^O03", "OMD_O03";
    RDE_O11 = "RDE^O11", "RDE_O11";
    RAS_O17 = "RAS^O17", "RAS_O17";
    OML_O33 = "OML^O33", "OML_O33";
    OUL_R22 = "OUL^R22", "OUL_R22";
    OMG_O19 = "OMG^O19", "OMG_O19";
    OMI_Z23 = "OMI^Z23", "OMI_Z23";
    ORU_R01 = "ORU^R01", "ORU_R01";
}

/// A simulated person (the same person can be a patient of two hospitals).
#[derive(Debug, Clone)]
struct Person {
    family: (&'static str, &'static str),
    given: (&'static str, &'static str),
    sex: &'static str,
    birth: String,
    age: i64,
    zip: &'static str,
    address: String,
    phone: String,
    mobile: Option<String>,
    height_cm: f64,
    weight_kg: f64,
    abo: &'static str,
    insurance: usize,
}

fn make_person(seed: u64, index: u64, start_year: i64) -> Person {
    let mut r = Rng::stream(seed, 0x5EED_0000 + index);
    let male = r.chance(50);
    let family = *r.pick(&FAMILY_NAMES);
    let given = if male { *r.pick(&MALE_NAMES) } else { *r.pick(&FEMALE_NAMES) };
    // Hospital patients skew old: 15% children, the rest 20–92.
    let age = if r.chance(15) { r.range(1, 14) } else { r.range(20, 92) };
    let birth =
        format!("{:04}{:02}{:02}", start_year - age - 1 + i64::from(r.chance(70)), r.range(1, 12), r.range(1, 28));
    let (zip, area, area_code) = *r.pick(&AREAS);
    let address = format!("{area}{}丁目{}番{}号", r.range(1, 5), r.range(1, 30), r.range(1, 20));
    let phone = format!("{area_code}-{:03}-{:04}", r.range(200, 399), r.range(0, 9999));
    let mobile = r.chance(60).then(|| format!("090-{:04}-{:04}", r.range(1000, 9999), r.range(0, 9999)));
    let (height_cm, weight_kg) = if age < 15 {
        let h = 75.0 + age as f64 * 6.0 + r.normal(0.0, 4.0);
        (h, (h / 100.0) * (h / 100.0) * 16.5 + r.normal(0.0, 1.5))
    } else if male {
        let h = r.normal(168.0, 6.5);
        (h, (h / 100.0) * (h / 100.0) * r.normal(23.5, 3.0))
    } else {
        let h = r.normal(155.5, 6.0);
        (h, (h / 100.0) * (h / 100.0) * r.normal(22.0, 3.0))
    };
    let abo = *r.pick(&["A", "A", "A", "A", "O", "O", "O", "B", "B", "AB"]);
    let insurance = if age >= 75 { 3 } else { r.index(3) };
    Person {
        family,
        given,
        sex: if male { "M" } else { "F" },
        birth,
        age,
        zip,
        address,
        phone,
        mobile,
        height_cm,
        weight_kg,
        abo,
        insurance,
    }
}

/// A problem on the patient's problem list.
#[derive(Debug, Clone)]
struct Problem {
    disease: usize,
    instance: String,
    added: Ts,
    main: bool,
    inpatient: bool,
}

/// A recorded allergy.
#[derive(Debug, Clone)]
struct AllergyRec {
    allergy: usize,
    severity: (&'static str, &'static str),
    onset: String,
}

/// A patient of one hospital.
#[derive(Debug, Clone)]
struct Patient {
    id: String,
    person: Person,
    dept: &'static Dept,
    doctor: &'static Staff,
    registered: bool,
    problems: Vec<Problem>,
    problem_list_no: Option<String>,
    allergies: Vec<AllergyRec>,
}

/// Where and under whom an encounter happens.
#[derive(Debug, Clone)]
struct Enc {
    inpatient: bool,
    /// PV1-3 (PL).
    loc: String,
    /// Ward code (inpatients).
    ward: &'static str,
    room: &'static str,
    bed: i64,
    dept: &'static Dept,
    doctor: &'static Staff,
}

impl Enc {
    fn outpatient(pt: &Patient) -> Enc {
        Enc {
            inpatient: false,
            loc: format!("{}^^^^^C", pt.dept.code),
            ward: "",
            room: "",
            bed: 0,
            dept: pt.dept,
            doctor: pt.doctor,
        }
    }

    fn class_cwe(&self) -> &'static str {
        if self.inpatient { "I^入院患者オーダ^HL70482" } else { "O^外来患者オーダ^HL70482" }
    }

    fn dept_cwe(&self) -> String {
        cwe(self.dept.code, self.dept.name, "HL70069")
    }

    fn doctor_xcn(&self) -> String {
        xcn(self.doctor.id, self.doctor.family, self.doctor.given)
    }

    /// LA2 administered-at location.
    fn la2(&self) -> String {
        if self.inpatient { format!("{}^{}^{}^^^N", self.ward, self.room, self.bed) } else { self.loc.clone() }
    }
}

/// A message waiting for its MSH (send time and control ID are assigned after sorting).
#[derive(Debug)]
struct Pending {
    at: Ts,
    seq: u64,
    mt: Mt,
    kind: &'static str,
    processing: Processing,
    patient_id: String,
    care_date: Option<String>,
    order_number: Option<String>,
    segments: Vec<Seg>,
}

/// Lab results of one order (kept so that a preliminary and the final report agree).
#[derive(Debug, Clone)]
struct LabPanel {
    code: &'static str,
    name: &'static str,
    material: (&'static str, &'static str),
    specimen_id: String,
    items: Vec<(&'static LabItem, String, &'static str)>,
}

/// What kind of imaging / physiology order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exam {
    Xray(usize),
    Endoscopy,
    Ecg,
}

/// Per-hospital simulation state.
struct Ctx {
    h: &'static HospitalDef,
    rng: Rng,
    day0: i64,
    days: i64,
    out: Vec<Pending>,
    seq: u64,
    order_seq: u64,
    filler_seq: u64,
    pid_counter: u64,
}

fn pad_id(n: u64, digits: u32) -> String {
    format!("{:0width$}", n, width = digits as usize)
}

impl Ctx {
    fn day(&self, index: i64) -> i64 {
        self.day0 + index.clamp(0, (self.days - 1).max(0))
    }

    fn last(&self) -> i64 {
        (self.days - 1).max(0)
    }

    /// `t` plus a random number of seconds and milliseconds (clinical times are not on the minute).
    fn jit(&mut self, t: Ts) -> Ts {
        t.plus_ms(self.rng.range(0, 59_999))
    }

    /// `t` plus `lo..=hi` minutes plus jitter.
    fn jit_range(&mut self, t: Ts, lo: i64, hi: i64) -> Ts {
        let m = self.rng.range(lo, hi);
        self.jit(t.plus_min(m))
    }

    fn next_patient_id(&mut self) -> String {
        self.pid_counter += self.rng.range(1, 37) as u64;
        pad_id(self.pid_counter, self.h.patient_id_digits)
    }

    /// A 15-digit order number: hospital digit, YYMMDD, 2-digit category, 6-digit sequence.
    fn order_no(&mut self, at: Ts, category: u64) -> String {
        self.order_seq += 1;
        let d = at.date8();
        let yymmdd = d.get(2..).unwrap_or(&d).to_string();
        format!("{}{}{:02}{:06}", self.h.order_prefix, yymmdd, category % 100, self.order_seq % 1_000_000)
    }

    fn filler_no(&mut self, at: Ts) -> String {
        self.filler_seq += 1;
        format!("{}{:06}", at.date8(), self.filler_seq % 1_000_000)
    }

    fn study_uid(&mut self) -> String {
        let hi = self.rng.next_u64() as u128;
        let lo = self.rng.next_u64() as u128;
        let v = ((hi << 64) | lo) >> 6 | (1u128 << 120);
        format!("2.25.{v}")
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        at: Ts,
        mt: Mt,
        kind: &'static str,
        processing: Processing,
        pt: &Patient,
        care: Option<Ts>,
        order: Option<&str>,
        segments: Vec<Seg>,
    ) {
        self.seq += 1;
        self.out.push(Pending {
            at,
            seq: self.seq,
            mt,
            kind,
            processing,
            patient_id: pt.id.clone(),
            care_date: care.map(Ts::date8),
            order_number: order.map(str::to_string),
            segments,
        });
    }

    // ----- common segments -------------------------------------------------------------------

    fn pid(&self, pt: &Patient) -> Seg {
        let p = &pt.person;
        let mut phones = format!("^PRN^PH^^^^^^^^^{}", p.phone);
        if let Some(m) = &p.mobile {
            phones.push_str(&format!("~^PRN^CP^^^^^^^^^{m}"));
        }
        Seg::new("PID")
            .f(1, "0001")
            .f(3, format!("{}^^^^PI", pt.id))
            .f(5, format!("{}^{}^^^^^L^I~{}^{}^^^^^L^P", p.family.0, p.given.0, p.family.1, p.given.1))
            .f(7, p.birth.clone())
            .f(8, p.sex)
            .f(11, format!("^^^^{}^JPN^H^{}", p.zip, p.address))
            .f(13, phones)
    }

    fn pv1(&self, enc: &Enc) -> Seg {
        Seg::new("PV1")
            .f(1, "0001")
            .f(2, if enc.inpatient { "I" } else { "O" })
            .f(3, enc.loc.clone())
            .f(7, enc.doctor_xcn())
            .f(10, enc.dept.code)
    }

    fn evn(&self, recorded: Ts, occurred: Option<Ts>) -> Seg {
        let s = Seg::new("EVN").f(2, recorded.dt14());
        match occurred {
            Some(o) => s.f(6, o.dt14()),
            None => s,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn orc(&self, enc: &Enc, control: &str, order: &str, filler: &str, group: &str, status: &str, at: Ts) -> Seg {
        let h = self.h;
        Seg::new("ORC")
            .f(1, control)
            .f(2, order)
            .f(3, filler)
            .f(4, group)
            .f(5, status)
            .f(9, at.dt14())
            .f(10, enc.doctor_xcn())
            .f(12, enc.doctor_xcn())
            .f(13, enc.loc.clone())
            .f(17, enc.dept_cwe())
            .f(21, h.name)
            .f(22, format!("^^^^{}^JPN^^{}", h.zip, h.address))
            .f(23, format!("^^^^^^^^^^^{}", h.phone))
            .f(29, enc.class_cwe())
    }

    // ----- patient administration --------------------------------------------------------------

    fn a08(&mut self, pt: &Patient, at: Ts, inpatient: bool) {
        let p = &pt.person;
        let (ins_code, ins_name, insurer) = INSURANCE.get(p.insurance).copied().unwrap_or(INSURANCE[0]);
        let relation = if p.age < 20 { "CHD^子^HL70063" } else { "SEL^本人^HL70063" };
        let segments = vec![
            self.evn(at, None),
            self.pid(pt).f(33, at.dt14()),
            Seg::new("PV1").f(1, "0001").f(2, if inpatient { "I" } else { "O" }),
            Seg::new("OBX")
                .f(1, "1")
                .f(2, "NM")
                .f(3, "9N001000000000001^身長^JC10")
                .f(5, format!("{:.1}", p.height_cm))
                .f(6, "cm^cm^ISO+")
                .f(11, "F"),
            Seg::new("OBX")
                .f(1, "2")
                .f(2, "NM")
                .f(3, "9N006000000000001^体重^JC10")
                .f(5, format!("{:.1}", p.weight_kg))
                .f(6, "kg^kg^ISO+")
                .f(11, "F"),
            Seg::new("OBX")
                .f(1, "3")
                .f(2, "CWE")
                .f(3, "5H010000009199911^血液型-ABO式^JC10")
                .f(5, format!("{0}^{0}^JSHR002", p.abo))
                .f(11, "F"),
            Seg::new("IN1")
                .f(1, "1")
                .f(2, cwe(ins_code, ins_name, "JHSD0001"))
                .f(3, insurer)
                .f(12, "20240401")
                .f(17, relation),
        ];
        self.emit(at, ADT_A08, "ADT-00", Processing::Ins, pt, None, None, segments);
    }

    fn a23(&mut self, pt: &Patient, at: Ts) {
        let segments = vec![self.evn(at, None), self.pid(pt), Seg::new("PV1").f(1, "0001").f(2, "O")];
        self.emit(at, ADT_A23, "ADT-00", Processing::Del, pt, None, None, segments);
    }

    fn a04(&mut self, pt: &Patient, enc: &Enc, at: Ts) {
        let segments = vec![self.evn(at, Some(at)), self.pid(pt), self.pv1(enc).f(44, at.dt14())];
        self.emit(at, ADT_A04, "ADT-12", Processing::Ins, pt, Some(at), None, segments);
    }

    /// Any dated inpatient ADT event. `care` goes into EVN-6 and into the field the SS-MIX2 table
    /// names (set by the caller in `pv1`/`pv2`), so every date field of the message agrees.
    #[allow(clippy::too_many_arguments)]
    fn adt(
        &mut self,
        at: Ts,
        mt: Mt,
        kind: &'static str,
        processing: Processing,
        pt: &Patient,
        care: Ts,
        pv1: Seg,
        pv2: Option<Seg>,
    ) {
        let mut segments = vec![self.evn(at, Some(care)), self.pid(pt), pv1];
        if let Some(p) = pv2 {
            segments.push(p);
        }
        self.emit(at, mt, kind, processing, pt, Some(care), None, segments);
    }

    fn a54(&mut self, pt: &Patient, enc: &Enc, at: Ts, effective: Ts, cancel: bool) {
        let segments = vec![self.evn(at, Some(effective)), self.pid(pt), self.pv1(enc)];
        if cancel {
            self.emit(at, ADT_A55, "ADT-01", Processing::Del, pt, None, None, segments);
        } else {
            self.emit(at, ADT_A54, "ADT-01", Processing::Ins, pt, None, None, segments);
        }
    }

    fn a60(&mut self, pt: &Patient, at: Ts, new_from: usize) {
        let mut segments = vec![self.evn(at, None), self.pid(pt)];
        for (i, a) in pt.allergies.iter().enumerate() {
            let Some(al) = ALLERGIES.get(a.allergy) else {
                continue;
            };
            let action = if i >= new_from { "A^追加^HL70323" } else { "X^変更なし^HL70323" };
            segments.push(
                Seg::new("IAM")
                    .f(1, (i + 1).to_string())
                    .f(2, cwe(al.kind.0, al.kind.1, "HL70127"))
                    .f(3, cwe(al.code, al.name, al.system))
                    .f(4, cwe(a.severity.0, a.severity.1, "HL70128"))
                    .f(5, al.reaction)
                    .f(6, action)
                    .f(7, format!("{}-AL{:02}", pt.id, i + 1))
                    .f(11, a.onset.clone()),
            );
        }
        self.emit(at, ADT_A60, "ADT-61", Processing::Ins, pt, None, None, segments);
    }

    fn ppr(&mut self, pt: &Patient, enc: &Enc, at: Ts, list_no: &str, new_from: usize) {
        let mut segments = vec![self.pid(pt)];
        for (i, p) in pt.problems.iter().enumerate() {
            let Some(d) = DISEASES.get(p.disease) else {
                continue;
            };
            let action = if i >= new_from { "AD" } else { "UC" };
            let when = if p.inpatient { "H^入院時" } else { "O^外来時" };
            segments.push(
                Seg::new("PRB")
                    .f(1, action)
                    .f(2, p.added.dt14())
                    .f(3, cwe(d.mdcdx2, d.name, "MDCDX2"))
                    .f(4, p.instance.clone())
                    .f(7, p.added.date8())
                    .f(10, format!("{}^^I10^{}^JHSD0004", d.icd10, when))
                    .f(16, p.added.date8())
                    .f(18, if p.main { "1^主診断^JHSD0007" } else { "2^副診断^JHSD0007" }),
            );
            let mut zpr = Seg::new("ZPR").f(2, cwe(d.mdcdx2, d.name, "MDCDX2"));
            if !d.exchange.is_empty() {
                zpr = zpr.f(5, cwe(d.exchange, d.name, "MDCDX2"));
            }
            segments.push(zpr);
            segments.push(
                Seg::new("ORC")
                    .f(1, "NW")
                    .f(2, list_no)
                    .f(12, enc.doctor_xcn())
                    .f(17, enc.dept_cwe())
                    .f(21, self.h.name)
                    .f(29, enc.class_cwe()),
            );
        }
        self.emit(at, PPR_ZD1, "PPR-01", Processing::Ins, pt, None, Some(list_no), segments);
    }

    // ----- orders --------------------------------------------------------------------------------

    fn omd(&mut self, pt: &Patient, enc: &Enc, at: Ts, order: &str, control: &str, diet: usize) {
        let (code, name, note) = DIETS.get(diet).copied().unwrap_or(DIETS[0]);
        let minute = at.minute_of_day();
        let start_hour = if minute < 11 * 60 {
            12
        } else if minute < 17 * 60 {
            18
        } else {
            (minute / 60 + 1).min(23)
        };
        let mut ods = Seg::new("ODS").f(1, "D").f(3, cwe(code, name, "99ODS"));
        if !note.is_empty() {
            ods = ods.f(4, note);
        }
        let segments = vec![
            self.pid(pt),
            self.pv1(enc),
            self.orc(enc, control, order, "", "", "", at),
            Seg::new("TQ1")
                .f(1, "1")
                .f(3, "TID&１日３回&HL70335")
                .f(7, format!("{}{start_hour:02}", at.date8()))
                .f(9, "R^ルーチン^HL70485"),
            ods,
        ];
        let processing = if control == "CA" { Processing::Del } else { Processing::Ins };
        self.emit(at, OMD_O03, "OMD", processing, pt, Some(at), Some(order), segments);
    }

    /// Outpatient prescription (RDE^O11, OMP-01): one Rp per drug.
    #[allow(clippy::too_many_arguments)]
    fn rde_rx(&mut self, pt: &Patient, enc: &Enc, at: Ts, order: &str, control: &str, drugs: &[usize], days: u32) {
        let mut segments = vec![self.pid(pt), self.pv1(enc)];
        for (rp, &di) in drugs.iter().enumerate() {
            let Some(d) = ORAL_DRUGS.get(di) else {
                continue;
            };
            let daily = d.dose * d.usage.per_day;
            segments.push(self.orc(enc, control, order, "", &(rp + 1).to_string(), "", at));
            segments.push(rxe_oral(d, daily, days, order));
            segments.push(
                Seg::new("TQ1")
                    .f(1, "1")
                    .f(3, format!("{}&{}&JAMISDP01", d.usage.code, d.usage.text))
                    .f(6, format!("{days}^d"))
                    .f(7, at.date8()),
            );
            segments.push(Seg::new("RXR").f(1, "PO^口^HL70162"));
        }
        let processing = if control == "CA" { Processing::Del } else { Processing::Ins };
        self.emit(at, RDE_O11, "OMP-01", processing, pt, Some(at), Some(order), segments);
    }

    fn injection_segments(&self, enc: &Enc, inf: &Infusion, order: &str, start: Ts, end: Ts) -> Vec<Seg> {
        let total: u32 = inf.components.iter().map(|c| c.volume_ml * c.amount).sum();
        let mut v = vec![
            Seg::new("RXE")
                .f(2, "00^一般^99I02")
                .f(3, total.to_string())
                .f(5, "ML^ミリリットル^MR9P")
                .f(6, "INJ^注射剤^MR9P")
                .f(7, format!("^{}^99IC6", inf.instruction))
                .f(15, format!("{order}-001"))
                .f(21, "IHP^入院処方^MR9P~FTP^定時処方^99I01")
                .f(22, "H1")
                .f(23, inf.rate_ml_h.to_string())
                .f(24, "ml/hr^ミリリットル／時間^ISO+")
                .f(42, format!("{}^^^^^N", enc.ward)),
            Seg::new("TQ1").f(1, "1").f(7, start.dt12()).f(8, end.dt12()),
            Seg::new("RXR").f(1, "IV^静脈内^HL70162").f(3, "IVP^点滴ポンプ^HL70164"),
        ];
        for (i, c) in inf.components.iter().enumerate() {
            v.push(
                Seg::new("RXC")
                    .f(1, if i == 0 { "B" } else { "A" })
                    .f(2, cwe(c.hot9, c.name, "HOT9"))
                    .f(3, c.amount.to_string())
                    .f(4, cwe(c.unit.0, c.unit.1, "MR9P")),
            );
        }
        v
    }

    fn infusion_end(inf: &Infusion, start: Ts) -> Ts {
        let total: u32 = inf.components.iter().map(|c| c.volume_ml * c.amount).sum();
        let minutes = (i64::from(total) * 60) / i64::from(inf.rate_ml_h.max(1));
        start.plus_min(minutes)
    }

    /// Inpatient injection order (RDE^O11, OMP-02).
    #[allow(clippy::too_many_arguments)]
    fn rde_inj(&mut self, pt: &Patient, enc: &Enc, at: Ts, order: &str, control: &str, inf: usize, start: Ts) {
        let inf = INFUSIONS.get(inf).unwrap_or(&INFUSIONS[0]);
        let end = Self::infusion_end(inf, start);
        let mut segments = vec![self.pid(pt), self.pv1(enc)];
        segments.push(self.orc(enc, control, order, "", &format!("{order}_01_001"), "", at));
        segments.extend(self.injection_segments(enc, inf, order, start, end));
        let processing = if control == "CA" { Processing::Del } else { Processing::Ins };
        self.emit(at, RDE_O11, "OMP-02", processing, pt, Some(at), Some(order), segments);
    }

    /// Injection administration (RAS^O17, OMP-12), sent when the infusion ends.
    fn ras_inj(&mut self, pt: &Patient, enc: &Enc, order: &str, inf: usize, start: Ts) {
        let inf = INFUSIONS.get(inf).unwrap_or(&INFUSIONS[0]);
        let end = Self::infusion_end(inf, start);
        let sent = self.jit(end.plus_min(5));
        let nurse = self.nurse();
        let site = *self.rng.pick(&["左前腕に実施", "右前腕に実施", "左手背に実施"]);
        let mut segments = vec![self.pid(pt), self.pv1(enc)];
        segments.push(self.orc(enc, "NW", order, "", &format!("{order}_01_001"), "", sent));
        segments.extend(self.injection_segments(enc, inf, order, start, end));
        for c in inf.components {
            segments.push(
                Seg::new("RXA")
                    .f(1, "0")
                    .f(2, "1")
                    .f(3, start.dt14())
                    .f(4, end.dt14())
                    .f(5, cwe(c.hot9, c.name, "HOT9"))
                    .f(6, c.amount.to_string())
                    .f(7, cwe(c.unit.0, c.unit.1, "MR9P"))
                    .f(9, format!("^{site}^99IC2"))
                    .f(10, nurse.clone())
                    .f(11, enc.la2())
                    .f(12, format!("{}ml/hr", inf.rate_ml_h))
                    .f(20, "CP")
                    .f(22, sent.dt14()),
            );
        }
        segments.push(Seg::new("RXR").f(1, "IV^静脈内^HL70162").f(3, "IVP^点滴ポンプ^HL70164"));
        self.emit(sent, RAS_O17, "OMP-12", Processing::Ins, pt, Some(start), Some(order), segments);
    }

    fn nurse(&mut self) -> String {
        let i = self.rng.index(self.h.nurses.len());
        match self.h.nurses.get(i) {
            Some(n) => xcn(n.id, n.family, n.given),
            None => String::new(),
        }
    }

    /// Oral medication administration (RAS^O17, OMP-11) for an inpatient's regular prescription.
    fn ras_oral(&mut self, pt: &Patient, enc: &Enc, order: &str, drugs: &[usize], given: Ts) {
        let sent = self.jit(given.plus_min(10));
        let nurse = self.nurse();
        let mut segments = vec![self.pid(pt), self.pv1(enc), self.orc(enc, "NW", order, "", "1", "", sent)];
        for &di in drugs {
            let Some(d) = ORAL_DRUGS.get(di) else {
                continue;
            };
            segments.push(
                Seg::new("RXA")
                    .f(1, "0")
                    .f(2, "1")
                    .f(3, given.dt12())
                    .f(4, given.dt12())
                    .f(5, cwe(d.hot9, d.name, "HOT9"))
                    .f(6, d.dose.to_string())
                    .f(7, cwe(d.unit.0, d.unit.1, "MR9P"))
                    .f(10, nurse.clone())
                    .f(11, enc.la2())
                    .f(20, "CP")
                    .f(22, sent.dt14()),
            );
        }
        segments.push(Seg::new("RXR").f(1, "PO^口^HL70162"));
        self.emit(sent, RAS_O17, "OMP-11", Processing::Ins, pt, Some(given), Some(order), segments);
    }

    fn lab_panels(&mut self, pt: &Patient, collect: Ts, with_crp: bool) -> Vec<LabPanel> {
        let female = pt.person.sex == "F";
        let mut chem = Vec::new();
        for item in CHEMISTRY.iter() {
            if item.jlac10.starts_with("5C070") && !with_crp {
                continue;
            }
            let v = self.lab_value(item, female);
            chem.push(v);
        }
        let mut hema = Vec::new();
        for item in HEMATOLOGY.iter() {
            let v = self.lab_value(item, female);
            hema.push(v);
        }
        let sid = self.filler_no(collect);
        vec![
            LabPanel {
                code: "E002",
                name: "生化学的検査",
                material: ("023", "血清"),
                specimen_id: format!("{sid}1"),
                items: chem,
            },
            LabPanel {
                code: "E001",
                name: "血液学的検査",
                material: ("019", "全血"),
                specimen_id: format!("{sid}2"),
                items: hema,
            },
        ]
    }

    fn lab_value(&mut self, item: &'static LabItem, female: bool) -> (&'static LabItem, String, &'static str) {
        let (low, high) =
            if item.jlac10.starts_with("2A030") && !female { (13.7, 16.8) } else { (item.low, item.high) };
        let mid = (low + high) / 2.0;
        let sd = ((high - low) / 4.0).max(0.01);
        let mut v = if self.rng.chance(18) {
            // An abnormal value, mostly high.
            if self.rng.chance(75) {
                high + sd * (0.5 + self.rng.next_u64() as f64 / u64::MAX as f64 * 3.0)
            } else {
                low - sd
            }
        } else {
            self.rng.normal(mid, sd * 0.8)
        };
        if v < 0.0 {
            v = 0.0;
        }
        let text = format!("{:.*}", item.decimals, v);
        let shown: f64 = text.parse().unwrap_or(v);
        let flag = if shown > high {
            "H"
        } else if shown < low {
            "L"
        } else {
            ""
        };
        (item, text, flag)
    }

    /// Laboratory order (OML^O33, OML-01).
    #[allow(clippy::too_many_arguments)]
    fn oml(&mut self, pt: &Patient, enc: &Enc, at: Ts, order: &str, control: &str, panels: &[LabPanel], collect: Ts) {
        let mut segments = vec![self.pid(pt), self.pv1(enc)];
        for (p, panel) in panels.iter().enumerate() {
            segments.push(
                Seg::new("SPM")
                    .f(1, (p + 1).to_string())
                    .f(4, cwe(panel.material.0, panel.material.1, "JC10"))
                    .f(17, collect.dt12()),
            );
            segments.push(self.orc(enc, control, order, "", order, "", at));
            segments.push(Seg::new("TQ1").f(1, "1").f(7, collect.dt12()).f(9, "R^ルーチン^HL70485"));
            segments.push(
                Seg::new("OBR")
                    .f(1, (p + 1).to_string())
                    .f(2, order)
                    .f(4, cwe(panel.code, panel.name, "99O03"))
                    .f(16, enc.doctor_xcn()),
            );
            for (i, (item, _, _)) in panel.items.iter().enumerate() {
                segments.push(
                    Seg::new("OBX").f(1, (i + 1).to_string()).f(3, cwe(item.jlac10, item.name, "JC10")).f(11, "O"),
                );
            }
        }
        let processing = if control == "CA" { Processing::Del } else { Processing::Ins };
        self.emit(at, OML_O33, "OML-01", processing, pt, Some(at), Some(order), segments);
    }

    /// Laboratory result (OUL^R22, OML-11). A preliminary report carries only the hematology panel.
    #[allow(clippy::too_many_arguments)]
    fn oul(
        &mut self,
        pt: &Patient,
        enc: &Enc,
        at: Ts,
        order: &str,
        filler: &str,
        panels: &[LabPanel],
        collect: Ts,
        fin: bool,
    ) {
        let mut segments = vec![self.pid(pt), self.pv1(enc)];
        let reported = panels.iter().filter(|panel| fin || panel.code == "E001");
        for (p, panel) in reported.enumerate() {
            segments.push(
                Seg::new("SPM")
                    .f(1, (p + 1).to_string())
                    .f(2, panel.specimen_id.clone())
                    .f(4, cwe(panel.material.0, panel.material.1, "JC10"))
                    .f(17, collect.dt12()),
            );
            segments.push(
                Seg::new("OBR")
                    .f(1, (p + 1).to_string())
                    .f(2, order)
                    .f(3, filler)
                    .f(4, cwe(panel.code, panel.name, "99O03"))
                    .f(7, collect.dt12())
                    .f(16, enc.doctor_xcn())
                    .f(22, at.dt14())
                    .f(25, "F"),
            );
            segments.push(self.orc(enc, "SC", order, filler, "", if fin { "CM" } else { "A" }, at));
            for (i, (item, value, flag)) in panel.items.iter().enumerate() {
                let range = format!("{:.*}-{:.*}", item.decimals, item.low, item.decimals, item.high);
                let range = if item.jlac10.starts_with("2A030") && pt.person.sex == "M" {
                    "13.7-16.8".to_string()
                } else {
                    range
                };
                segments.push(
                    Seg::new("OBX")
                        .f(1, (i + 1).to_string())
                        .f(2, "NM")
                        .f(3, cwe(item.jlac10, item.name, "JC10"))
                        .f(5, value.clone())
                        .f(6, cwe(item.unit, item.unit, "ISO+"))
                        .f(7, range)
                        .f(8, *flag)
                        .f(11, "F")
                        .f(14, collect.dt12()),
                );
            }
        }
        self.emit(at, OUL_R22, "OML-11", Processing::Ins, pt, Some(collect), Some(order), segments);
    }

    fn exam_code(exam: Exam) -> String {
        match exam {
            Exam::Xray(i) => {
                let (c, n) = XRAY.get(i).copied().unwrap_or(XRAY[0]);
                cwe(c, n, "JJ1017")
            }
            Exam::Endoscopy => cwe(ENDO_ORDER.0, ENDO_ORDER.1, "LENDO"),
            Exam::Ecg => cwe(ECG.0, ECG.1, "JC10"),
        }
    }

    /// Radiology / endoscopy / physiology order (OMG^O19: OMG-01 / OMG-02 / OMG-03).
    #[allow(clippy::too_many_arguments)]
    fn omg(&mut self, pt: &Patient, enc: &Enc, at: Ts, order: &str, control: &str, exam: Exam) {
        let kind = match exam {
            Exam::Xray(_) => "OMG-01",
            Exam::Endoscopy => "OMG-02",
            Exam::Ecg => "OMG-03",
        };
        let mut segments = vec![self.pid(pt), self.pv1(enc), self.orc(enc, control, order, "", "", "", at)];
        let tq1 = Seg::new("TQ1").f(1, "1").f(9, "R^ルーチン^HL70485");
        segments.push(if exam == Exam::Ecg { tq1.f(2, "1") } else { tq1 });
        segments.push(Seg::new("OBR").f(1, "1").f(2, order).f(4, Self::exam_code(exam)).f(16, enc.doctor_xcn()));
        if exam == Exam::Endoscopy {
            let (dx, why) = *self.rng.pick(&[
                ("胃潰瘍の疑い", "臨床病名に対する精査"),
                ("慢性胃炎", "経過観察"),
                ("貧血", "出血源の検索"),
            ]);
            segments.push(Seg::new("OBX").f(1, "1").f(2, "TX").f(3, "MS3-34^臨床病名^JSHR").f(5, dx).f(11, "F"));
            segments.push(Seg::new("OBX").f(1, "2").f(2, "TX").f(3, "MS3-04^内視鏡検査理由^JSHR").f(5, why).f(11, "F"));
        }
        let processing = if control == "CA" { Processing::Del } else { Processing::Ins };
        self.emit(at, OMG_O19, kind, processing, pt, Some(at), Some(order), segments);
    }

    /// Radiology or endoscopy performed (OMI^Z23: OMG-11 / OMG-12).
    fn omi(&mut self, pt: &Patient, enc: &Enc, order: &str, exam: Exam, start: Ts) {
        let (end, kind, modality) = match exam {
            Exam::Endoscopy => (start.plus_min(self.rng.range(12, 25)), "OMG-12", "ES^^DCM"),
            _ => (start.plus_min(self.rng.range(3, 8)), "OMG-11", "CR^^DCM"),
        };
        let sent = self.jit(end.plus_min(10));
        let filler = self.filler_no(start);
        let (code_text, done) = match exam {
            Exam::Xray(_) => (Self::exam_code(exam), Self::exam_code(exam)),
            _ => (cwe(ENDO_DONE.0, ENDO_DONE.1, "LENDO"), cwe(ENDO_DONE.0, ENDO_DONE.1, "LENDO")),
        };
        let mut segments = vec![
            self.pid(pt),
            self.pv1(enc),
            self.orc(enc, "NW", order, &filler, "", "CM", sent),
            Seg::new("TQ1").f(1, "1").f(9, "R^ルーチン^HL70485"),
            Seg::new("OBR")
                .f(1, "1")
                .f(2, order)
                .f(3, filler.clone())
                .f(4, code_text)
                .f(7, start.dt14())
                .f(8, end.dt14())
                .f(16, enc.doctor_xcn())
                .f(22, sent.dt14())
                .f(25, "F"),
            Seg::new("ZE1").f(1, "1").f(2, "RS").f(3, done).f(4, "1"),
        ];
        if let Exam::Xray(_) = exam {
            let kv = self.rng.range(90, 125);
            let ma = self.rng.range(160, 320);
            segments.push(
                Seg::new("ZE2")
                    .f(1, "1")
                    .f(2, format!("{kv}^kV"))
                    .f(3, format!("{ma}^mA"))
                    .f(4, "180^cm")
                    .f(5, "0.02^s")
                    .f(6, "1"),
            );
        } else {
            let performer = enc.doctor_xcn();
            segments.push(
                Seg::new("OBX")
                    .f(1, "1")
                    .f(2, "XCN")
                    .f(3, "DR-02.EM-01^正従業員の実施医師^JSHR")
                    .f(5, performer)
                    .f(11, "F"),
            );
            segments
                .push(Seg::new("OBX").f(1, "2").f(2, "TS").f(3, "TM-P1^開始時間^JSHR").f(5, start.dt14()).f(11, "F"));
            segments.push(Seg::new("OBX").f(1, "3").f(2, "TS").f(3, "TM-P2^終了時間^JSHR").f(5, end.dt14()).f(11, "F"));
            segments.push(
                Seg::new("OBX")
                    .f(1, "4")
                    .f(2, "ZRD")
                    .f(3, "DE-02^薬品^JSHR")
                    .f(5, "101682602^キシロカインスプレー^HOT9^1^KAI&回&JSHR")
                    .f(11, "F"),
            );
            if self.rng.chance(40) {
                let biopsy = start.plus_min(self.rng.range(5, 10));
                segments.push(
                    Seg::new("ZE1").f(1, "2").f(2, "RS").f(3, cwe(ENDO_BIOPSY.0, ENDO_BIOPSY.1, "LENDO")).f(4, "1"),
                );
                segments.push(
                    Seg::new("OBX").f(1, "1").f(2, "TS").f(3, "TM-B1^生検時間^JSHR").f(5, biopsy.dt14()).f(11, "F"),
                );
            }
        }
        let accession = format!("A{}{:04}", start.date8(), self.filler_seq % 10_000);
        let uid = self.study_uid();
        segments.push(
            Seg::new("IPC")
                .f(1, accession)
                .f(2, format!("P{:06}", self.filler_seq % 1_000_000))
                .f(3, uid)
                .f(5, modality),
        );
        self.emit(sent, OMI_Z23, kind, Processing::Ins, pt, Some(start), Some(order), segments);
    }

    /// Physiology result (ORU^R01, OMG-13): a resting 12-lead ECG.
    fn oru_ecg(&mut self, pt: &Patient, enc: &Enc, order: &str, exam: Ts) {
        let sent = self.jit_range(exam, 10, 40);
        let filler = self.filler_no(exam);
        let finding = *self.rng.pick(&ECG_FINDINGS);
        let hr = self.rng.range(52, 98);
        let pq = self.rng.range(120, 200);
        let qrs = self.rng.range(80, 110);
        let qt = self.rng.range(360, 440);
        let axis = self.rng.range(-20, 80);
        let mut segments = vec![
            self.pid(pt),
            self.pv1(enc),
            Seg::new("OBR")
                .f(1, "1")
                .f(2, order)
                .f(3, filler)
                .f(4, cwe(ECG.0, ECG.1, "JC10"))
                .f(7, exam.dt14())
                .f(16, enc.doctor_xcn())
                .f(22, sent.dt14())
                .f(25, "F"),
            Seg::new("OBX").f(1, "1").f(2, "TX").f(3, "9A110^心電図所見^JC10").f(4, "1").f(5, finding).f(11, "F"),
        ];
        let numeric: [(&str, i64, &str); 5] = [
            ("32769^心拍数^99MFR", hr, "bpm"),
            ("32770^PQ 時間^99MFR", pq, "msec"),
            ("58240^QRS 幅^99MFR", qrs, "msec"),
            ("56008^QT 時間^99MFR", qt, "msec"),
            ("32774^QRS 軸^99MFR", axis, "degree"),
        ];
        for (i, (code, v, unit)) in numeric.iter().enumerate() {
            segments.push(
                Seg::new("OBX")
                    .f(1, (i + 2).to_string())
                    .f(2, "NM")
                    .f(3, *code)
                    .f(4, "2")
                    .f(5, v.to_string())
                    .f(6, *unit)
                    .f(11, "F"),
            );
        }
        self.emit(sent, ORU_R01, "OMG-13", Processing::Ins, pt, Some(exam), Some(order), segments);
    }
}

fn rxe_oral(d: &OralDrug, daily: u32, days: u32, order: &str) -> Seg {
    Seg::new("RXE")
        .f(2, cwe(d.hot9, d.name, "HOT9"))
        .f(3, d.dose.to_string())
        .f(5, cwe(d.unit.0, d.unit.1, "MR9P"))
        .f(6, cwe(d.form.0, d.form.1, "MR9P"))
        .f(10, (daily * days).to_string())
        .f(11, cwe(d.unit.0, d.unit.1, "MR9P"))
        .f(15, order)
        .f(19, format!("{daily}^{}&{}&MR9P", d.unit.0, d.unit.1))
        .f(21, "OHP^外来処方^MR9P~OHI^院内処方^MR9P")
}

// ----- scenarios ---------------------------------------------------------------------------------

/// Options of one outpatient visit.
#[derive(Debug, Clone, Copy, Default)]
struct VisitPlan {
    lab: bool,
    xray: bool,
    ecg: bool,
    endoscopy: bool,
    prescription: bool,
    /// Send the extra updates and cancellations of the showcase patient.
    showcase: bool,
}

impl Ctx {
    fn new_problem(&mut self, pt: &mut Patient, at: Ts, inpatient: bool) {
        let candidates: Vec<usize> =
            (0..DISEASES.len()).filter(|d| !pt.problems.iter().any(|p| p.disease == *d)).collect();
        let i = self.rng.index(candidates.len());
        let Some(&disease) = candidates.get(i) else {
            return;
        };
        let instance = self.order_no(at, 81);
        let main = pt.problems.is_empty();
        pt.problems.push(Problem { disease, instance, added: at, main, inpatient });
    }

    /// Sends the patient's problem list, adding a new problem first when `add` is set.
    fn problem_list(&mut self, pt: &mut Patient, enc: &Enc, at: Ts, add: bool) {
        let before = pt.problems.len();
        if add || pt.problems.is_empty() {
            self.new_problem(pt, at, enc.inpatient);
        }
        let list_no = match &pt.problem_list_no {
            Some(n) => n.clone(),
            None => {
                let n = self.order_no(at, 80);
                pt.problem_list_no = Some(n.clone());
                n
            }
        };
        let pt_ro: &Patient = pt;
        self.ppr(pt_ro, enc, at, &list_no, before);
    }

    fn allergy_list(&mut self, pt: &mut Patient, at: Ts) {
        let before = pt.allergies.len();
        let candidates: Vec<usize> =
            (0..ALLERGIES.len()).filter(|a| !pt.allergies.iter().any(|r| r.allergy == *a)).collect();
        let i = self.rng.index(candidates.len());
        if let Some(&allergy) = candidates.get(i) {
            let severity = *self.rng.pick(&[("MI", "軽度"), ("MO", "中等度"), ("SV", "重度")]);
            let year = self.rng.range(1985, 2024);
            let onset = format!("{year:04}{:02}", self.rng.range(1, 12));
            pt.allergies.push(AllergyRec { allergy, severity, onset });
        }
        let pt_ro: &Patient = pt;
        self.a60(pt_ro, at, before);
    }

    fn register(&mut self, pt: &mut Patient, at: Ts, inpatient: bool) {
        if !pt.registered {
            self.a08(pt, at, inpatient);
            pt.registered = true;
        }
    }

    /// One outpatient visit on sim day `d`; returns the time the visit's last message is sent.
    fn visit(&mut self, pt: &mut Patient, d: i64, plan: VisitPlan) -> Ts {
        let day = self.day(d);
        let minute = self.rng.range(8 * 60 + 30, 11 * 60 + 30);
        let arrive = self.jit(Ts::at(day, minute));
        self.register(pt, arrive.plus_min(-4), false);
        let enc = Enc::outpatient(pt);
        self.a04(pt, &enc, arrive);
        let tc = arrive.plus_min(self.rng.range(15, 60));
        let mut last = tc;

        if plan.lab {
            let at = self.jit(tc.plus_min(2));
            let order = self.order_no(at, 30);
            let collect = self.jit(tc.plus_min(15));
            let with_crp = self.rng.chance(50);
            let panels = self.lab_panels(pt, collect, with_crp);
            self.oml(pt, &enc, at, &order, "NW", &panels, collect);
            let mut panels_final = panels.clone();
            if plan.showcase || self.rng.chance(8) {
                // The doctor adds CRP: the order is re-sent with the same order number.
                if !with_crp {
                    panels_final = self.lab_panels(pt, collect, true);
                    if let (Some(f), Some(o)) = (panels_final.get_mut(1), panels.get(1)) {
                        f.items.clone_from(&o.items);
                    }
                }
                let at2 = self.jit(tc.plus_min(6));
                self.oml(pt, &enc, at2, &order, "XO", &panels_final, collect);
            }
            let filler = self.filler_no(collect);
            if plan.showcase || self.rng.chance(30) {
                let pre = self.jit_range(collect, 30, 45);
                self.oul(pt, &enc, pre, &order, &filler, &panels_final, collect, false);
            }
            let fin = self.jit_range(collect, 60, 150);
            self.oul(pt, &enc, fin, &order, &filler, &panels_final, collect, true);
            last = last.max(fin);
            if plan.showcase || self.rng.chance(3) {
                // A duplicate order entered by mistake and cancelled a few minutes later.
                let at3 = self.jit(tc.plus_min(8));
                let dup = self.order_no(at3, 30);
                let panels = self.lab_panels(pt, collect, false);
                self.oml(pt, &enc, at3, &dup, "NW", &panels, collect);
                let at4 = self.jit(tc.plus_min(12));
                self.oml(pt, &enc, at4, &dup, "CA", &panels, collect);
            }
        }
        if plan.ecg {
            let at = self.jit(tc.plus_min(3));
            let order = self.order_no(at, 60);
            self.omg(pt, &enc, at, &order, "NW", Exam::Ecg);
            let exam = self.jit_range(tc, 10, 25);
            self.oru_ecg(pt, &enc, &order, exam);
        }
        if plan.xray {
            let at = self.jit(tc.plus_min(4));
            let order = self.order_no(at, 40);
            let view = self.rng.index(XRAY.len());
            self.omg(pt, &enc, at, &order, "NW", Exam::Xray(view));
            let exam = self.jit_range(tc, 15, 40);
            self.omi(pt, &enc, &order, Exam::Xray(view), exam);
            if plan.showcase || self.rng.chance(4) {
                let at2 = self.jit(tc.plus_min(5));
                let order2 = self.order_no(at2, 40);
                self.omg(pt, &enc, at2, &order2, "NW", Exam::Xray(2));
                let at3 = self.jit(tc.plus_min(9));
                self.omg(pt, &enc, at3, &order2, "CA", Exam::Xray(2));
            }
        }
        if plan.endoscopy {
            let at = self.jit(tc.plus_min(6));
            let order = self.order_no(at, 50);
            self.omg(pt, &enc, at, &order, "NW", Exam::Endoscopy);
            let exam = self.jit_range(tc, 90, 150);
            self.omi(pt, &enc, &order, Exam::Endoscopy, exam);
            last = last.max(exam.plus_min(40));
        }
        if plan.prescription {
            let at = self.jit(tc.plus_min(50));
            let order = self.order_no(at, 10);
            let n = if self.rng.chance(35) { 2 } else { 1 };
            let mut drugs = Vec::new();
            while drugs.len() < n {
                let d = self.rng.index(ORAL_DRUGS.len());
                if !drugs.contains(&d) {
                    drugs.push(d);
                }
            }
            let days = *self.rng.pick(&[7u32, 14, 14, 28, 30]);
            self.rde_rx(pt, &enc, at, &order, "NW", &drugs, days);
            last = last.max(at);
            if plan.showcase || self.rng.chance(8) {
                // Prescription changed after the patient asked for a longer supply.
                let at2 = self.jit(tc.plus_min(58));
                self.rde_rx(pt, &enc, at2, &order, "XO", &drugs, days + 14);
                last = last.max(at2);
            }
            if plan.showcase || self.rng.chance(4) {
                let at3 = self.jit(tc.plus_min(60));
                let order3 = self.order_no(at3, 10);
                let extra = [(drugs.first().copied().unwrap_or(0) + 1) % ORAL_DRUGS.len()];
                self.rde_rx(pt, &enc, at3, &order3, "NW", &extra, 7);
                let at4 = self.jit(tc.plus_min(64));
                self.rde_rx(pt, &enc, at4, &order3, "CA", &extra, 7);
                last = last.max(at4);
            }
        }
        // Problem list: sent with the first visit, re-sent when a problem is added.
        if pt.problem_list_no.is_none() {
            if plan.showcase || self.rng.chance(80) {
                let at = self.jit(tc.plus_min(55));
                self.problem_list(pt, &enc, at, false);
                last = last.max(at);
            }
        } else if self.rng.chance(20) {
            let at = self.jit(tc.plus_min(55));
            self.problem_list(pt, &enc, at, true);
            last = last.max(at);
        }
        if pt.allergies.is_empty() && (plan.showcase || self.rng.chance(12)) {
            let at = self.jit(tc.plus_min(8));
            self.allergy_list(pt, at);
        }
        last
    }

    fn random_visit_plan(&mut self, pt: &Patient) -> VisitPlan {
        let endo_dept = matches!(pt.dept.code, "01" | "06");
        VisitPlan {
            lab: self.rng.chance(55),
            xray: self.h.radiology && self.rng.chance(22),
            ecg: self.rng.chance(15),
            endoscopy: self.h.endoscopy && endo_dept && self.rng.chance(25),
            prescription: self.rng.chance(70),
            showcase: false,
        }
    }

    /// Weekday sim days (outpatient clinics are closed at weekends).
    fn is_clinic_day(&self, d: i64) -> bool {
        weekday(self.day(d)) < 5
    }

    fn outpatient(&mut self, pt: &mut Patient) {
        let last = self.last();
        let first = self.rng.range(0, last);
        let mut d = first;
        let mut visits = 0;
        while d <= last && visits < 3 {
            if self.is_clinic_day(d) {
                let plan = self.random_visit_plan(pt);
                self.visit(pt, d, plan);
                visits += 1;
                if pt.registered && visits == 1 && self.rng.chance(8) {
                    // Moved house: basic patient information updated.
                    let at = self.jit(Ts::at(self.day(d), 17 * 60));
                    pt.person.address =
                        format!("静岡県静岡市葵区七間町{}番{}号", self.rng.range(1, 20), self.rng.range(1, 15));
                    pt.person.zip = "420-0035";
                    self.a08(pt, at, false);
                }
            }
            d += self.rng.range(2, 6);
        }
        if visits > 0 && !pt.allergies.is_empty() && self.rng.chance(15) && last > 0 {
            let at = self.jit(Ts::at(self.day(last), 16 * 60));
            self.allergy_list(pt, at);
        }
    }

    /// A new bed for an inpatient currently in `from` (same department and attending doctor).
    fn move_enc(&mut self, from: &Enc) -> Enc {
        let mut next = from.clone();
        for _ in 0..8 {
            let wi = self.rng.index(self.h.wards.len());
            let Some(w) = self.h.wards.get(wi) else { break };
            let ri = self.rng.index(w.rooms.len());
            let room = w.rooms.get(ri).copied().unwrap_or("1");
            let bed = self.rng.range(1, 4);
            if (w.code, room, bed) != (from.ward, from.room, from.bed) {
                next = Enc { ward: w.code, room, bed, loc: format!("{}^{room}^{bed}^^^N", w.code), ..from.clone() };
                break;
            }
        }
        next
    }

    fn ward_enc(&mut self, pt: &Patient) -> Enc {
        let wi = self.rng.index(self.h.wards.len());
        let (ward, room) = match self.h.wards.get(wi) {
            Some(w) => {
                let ri = self.rng.index(w.rooms.len());
                (w.code, w.rooms.get(ri).copied().unwrap_or("1"))
            }
            None => ("", ""),
        };
        let bed = self.rng.range(1, 4);
        Enc {
            inpatient: true,
            loc: format!("{ward}^{room}^{bed}^^^N"),
            ward,
            room,
            bed,
            dept: pt.dept,
            doctor: pt.doctor,
        }
    }

    /// Inpatient pv1 for ADT events.
    fn pv1_in(&self, enc: &Enc) -> Seg {
        self.pv1(enc).f(17, enc.doctor_xcn())
    }

    /// The daily inpatient routine of one day: injection order + administration, oral meds, labs.
    #[allow(clippy::too_many_arguments)]
    fn ward_day(
        &mut self,
        pt: &Patient,
        enc: &Enc,
        day: i64,
        after: Ts,
        oral_order: &Option<(String, Vec<usize>)>,
        iv: Option<usize>,
        lab: bool,
    ) {
        let base = Ts::at(day, 0);
        if let Some((order, drugs)) = oral_order {
            let given = self.jit(base.plus_min(8 * 60));
            if given > after {
                self.ras_oral(pt, enc, order, drugs, given);
            }
        }
        if let Some(inf) = iv {
            let at = self.jit(base.plus_min(9 * 60).max(after.plus_min(20)));
            let order = self.order_no(at, 20);
            self.rde_inj(pt, enc, at, &order, "NW", inf, at.plus_min(40));
            self.ras_inj(pt, enc, &order, inf, at.plus_min(40));
        }
        if lab {
            let at = self.jit(base.plus_min(6 * 60).max(after.plus_min(15)));
            let order = self.order_no(at, 30);
            let collect = at.plus_min(20);
            let panels = self.lab_panels(pt, collect, true);
            self.oml(pt, enc, at, &order, "NW", &panels, collect);
            let filler = self.filler_no(collect);
            let fin = self.jit_range(collect, 60, 120);
            self.oul(pt, enc, fin, &order, &filler, &panels, collect, true);
        }
    }

    /// A random inpatient stay starting on sim day `a`.
    fn stay(&mut self, pt: &mut Patient, a: i64) {
        let last = self.last();
        let adm_day = self.day(a);
        let mut enc = self.ward_enc(pt);
        // Seen in the outpatient clinic the day before, admission planned there.
        let plan_sent = if a > 0 && self.is_clinic_day(a - 1) {
            let plan = VisitPlan { lab: self.rng.chance(60), prescription: false, ..VisitPlan::default() };
            self.visit(pt, a - 1, plan).plus_min(10)
        } else {
            self.jit(Ts::at(adm_day, 7 * 60 + 30))
        };
        self.register(pt, plan_sent.plus_min(-3), false);
        let planned = Ts::at(adm_day, self.rng.range(10 * 60, 11 * 60 + 30));
        self.adt(
            plan_sent,
            ADT_A14,
            "ADT-21",
            Processing::Ins,
            pt,
            planned,
            self.pv1_in(&enc),
            Some(Seg::new("PV2").f(8, planned.dt14())),
        );
        if self.rng.chance(5) {
            // Admission postponed by an hour: plan cancelled and re-registered.
            let c = self.jit(plan_sent.plus_min(20));
            self.adt(
                c,
                ADT_A27,
                "ADT-21",
                Processing::Del,
                pt,
                planned,
                self.pv1_in(&enc),
                Some(Seg::new("PV2").f(8, planned.dt14())),
            );
            let replanned = planned.plus_min(60);
            self.adt(
                c.plus_min(2),
                ADT_A14,
                "ADT-21",
                Processing::Ins,
                pt,
                replanned,
                self.pv1_in(&enc),
                Some(Seg::new("PV2").f(8, replanned.dt14())),
            );
        }
        let delay = self.rng.range(0, 40);
        let admit = self.jit(planned.plus_min(delay).max(plan_sent.plus_min(30)));
        self.adt(admit, ADT_A01, "ADT-22", Processing::Ins, pt, admit, self.pv1_in(&enc).f(44, admit.dt14()), None);
        if self.rng.chance(4) {
            // Admitted to the wrong bed: cancelled and re-sent.
            let c = self.jit(admit.plus_min(15));
            self.adt(c, ADT_A11, "ADT-22", Processing::Del, pt, admit, self.pv1_in(&enc).f(44, admit.dt14()), None);
            enc = self.move_enc(&enc);
            self.adt(
                c.plus_min(3),
                ADT_A01,
                "ADT-22",
                Processing::Ins,
                pt,
                admit,
                self.pv1_in(&enc).f(44, admit.dt14()),
                None,
            );
        }
        let diet_order = self.order_no(admit, 70);
        let diet = self.rng.index(DIETS.len());
        self.omd(pt, &enc, admit.plus_min(25), &diet_order, "NW", diet);
        if self.rng.chance(20) {
            let at = self.jit(admit.plus_min(200));
            self.omd(pt, &enc, at, &diet_order, "XO", (diet + 1) % DIETS.len());
        }
        let at = self.jit(admit.plus_min(50));
        self.problem_list(pt, &enc, at, true);

        let los = self.rng.range(2, 9);
        let dis = a + los;
        let oral = if self.rng.chance(60) {
            let order = self.order_no(admit, 11);
            let drugs = vec![self.rng.index(ORAL_DRUGS.len())];
            Some((order, drugs))
        } else {
            None
        };
        let iv = self.rng.chance(65).then(|| self.rng.index(INFUSIONS.len()));
        let loa_day = (los >= 4 && self.rng.chance(20)).then(|| a + 2);
        let transfer_day = (los >= 3 && self.rng.chance(20)).then(|| a + 1);
        let change_doctor = self.rng.chance(10);

        let end = dis.min(last);
        let mut d = a;
        while d <= end {
            let day = self.day(d);
            if d == dis {
                break;
            }
            let after = if d == a { admit.plus_min(30) } else { Ts::at(day, 0) };
            let lab = d == a + 1 || (d > a + 1 && self.rng.chance(25));
            self.ward_day(pt, &enc, day, after, &oral, iv, lab);
            if Some(d) == transfer_day {
                let sent = self.jit(Ts::at(day, 8 * 60 + 30));
                let planned = Ts::at(day, 14 * 60);
                let new_enc = self.move_enc(&enc);
                let pv1 = self.pv1_in(&enc).f(42, new_enc.loc.clone());
                self.adt(
                    sent,
                    ADT_A15,
                    "ADT-41",
                    Processing::Ins,
                    pt,
                    planned,
                    pv1,
                    Some(Seg::new("PV2").f(8, planned.dt14())),
                );
                let done = self.jit_range(planned, 0, 30);
                let pv1 = self.pv1_in(&new_enc).f(6, enc.loc.clone());
                self.adt(done, ADT_A02, "ADT-42", Processing::Ins, pt, done, pv1, None);
                enc = new_enc;
            }
            if Some(d) == loa_day {
                let out = self.jit(Ts::at(day, 13 * 60));
                let back_planned = Ts::at(day, 17 * 60);
                let pv2 = Seg::new("PV2").f(47, back_planned.dt14());
                self.adt(out, ADT_A21, "ADT-31", Processing::Ins, pt, out, self.pv1_in(&enc), Some(pv2.clone()));
                let back = self.jit_range(back_planned, -30, 10);
                self.adt(back, ADT_A22, "ADT-32", Processing::Ins, pt, back, self.pv1_in(&enc), Some(pv2));
            }
            if change_doctor && d == a + 1 {
                let docs = pt.dept.doctors;
                if let Some(doc) = docs.iter().find(|x| x.id != pt.doctor.id) {
                    let at = self.jit(Ts::at(day, 16 * 60));
                    enc.doctor = doc;
                    self.a54(pt, &enc, at, at, false);
                }
            }
            d += 1;
        }
        if dis <= last {
            let dis_day = self.day(dis);
            let planned = Ts::at(dis_day, 10 * 60);
            let sent = self.jit(Ts::at(self.day(dis - 1), 17 * 60 + 30));
            let pv2 = Seg::new("PV2").f(9, planned.dt14());
            self.adt(sent, ADT_A16, "ADT-51", Processing::Ins, pt, planned, self.pv1_in(&enc), Some(pv2));
            let out = self.jit_range(planned, 0, 60);
            self.adt(
                out,
                ADT_A03,
                "ADT-52",
                Processing::Ins,
                pt,
                out,
                self.pv1_in(&enc).f(36, "01").f(45, out.dt14()),
                None,
            );
        }
    }

    /// Patient 1 of 登呂総合病院: every outpatient order kind with updates and cancellations.
    fn showcase_outpatient(&mut self, pt: &mut Patient) {
        let plan = VisitPlan { lab: true, xray: true, ecg: true, endoscopy: true, prescription: true, showcase: true };
        let last_sent = self.visit(pt, 0, plan);
        let follow = self.last().min(2);
        let enc = Enc::outpatient(pt);
        let base = if follow == 0 {
            last_sent.plus_min(30)
        } else {
            let plan = VisitPlan { lab: true, prescription: true, ..VisitPlan::default() };
            self.visit(pt, follow, plan).plus_min(5)
        };
        // Problem list re-sent with an added problem, allergy list with an added allergy.
        let at = self.jit(base);
        self.problem_list(pt, &enc, at, true);
        let at = self.jit(base.plus_min(3));
        self.allergy_list(pt, at);
        // Phone number changed: patient basic information updated.
        pt.person.mobile = Some(format!("080-{:04}-{:04}", self.rng.range(1000, 9999), self.rng.range(0, 9999)));
        let at = self.jit(base.plus_min(6));
        self.a08(pt, at, false);
    }

    /// Patient 0 of 登呂総合病院: a full stay with every ADT event and its cancellation.
    fn showcase_inpatient(&mut self, pt: &mut Patient) {
        let last = self.last();
        let (d_mid, d_dis) = (last.min(1), last.min(3));
        let mut cur = Ts::at(self.day(0), 7 * 60);
        let mut step = |ctx: &mut Ctx, d: i64, minute: i64| -> Ts {
            let t = ctx.jit(Ts::at(ctx.day(d), minute).max(cur.plus_min(6)));
            cur = t;
            t
        };
        let mut enc = self.ward_enc(pt);
        let pv2_8 = |t: Ts| Some(Seg::new("PV2").f(8, t.dt14()));

        // Day 0: admission plan (cancelled once), admission (cancelled once).
        let t = step(self, 0, 7 * 60);
        self.register(pt, t.plus_min(-2), false);
        let plan1 = t.plus_min(150);
        self.adt(t, ADT_A14, "ADT-21", Processing::Ins, pt, plan1, self.pv1_in(&enc), pv2_8(plan1));
        let t = step(self, 0, 7 * 60 + 15);
        self.adt(t, ADT_A27, "ADT-21", Processing::Del, pt, plan1, self.pv1_in(&enc), pv2_8(plan1));
        let t = step(self, 0, 7 * 60 + 30);
        let plan2 = t.plus_min(120);
        self.adt(t, ADT_A14, "ADT-21", Processing::Ins, pt, plan2, self.pv1_in(&enc), pv2_8(plan2));
        let wrong = step(self, 0, 9 * 60 + 30);
        self.adt(wrong, ADT_A01, "ADT-22", Processing::Ins, pt, wrong, self.pv1_in(&enc).f(44, wrong.dt14()), None);
        let t = step(self, 0, 9 * 60 + 40);
        self.adt(t, ADT_A11, "ADT-22", Processing::Del, pt, wrong, self.pv1_in(&enc).f(44, wrong.dt14()), None);
        enc = self.move_enc(&enc);
        let admit = step(self, 0, 9 * 60 + 45);
        self.adt(admit, ADT_A01, "ADT-22", Processing::Ins, pt, admit, self.pv1_in(&enc).f(44, admit.dt14()), None);

        // Diet: ordered, changed; a test meal ordered by mistake and cancelled.
        let t = step(self, 0, 10 * 60 + 15);
        let diet_order = self.order_no(t, 70);
        self.omd(pt, &enc, t, &diet_order, "NW", 0);
        let t2 = step(self, 0, 10 * 60 + 25);
        let extra = self.order_no(t2, 70);
        self.omd(pt, &enc, t2, &extra, "NW", 4);
        let t3 = step(self, 0, 10 * 60 + 35);
        self.omd(pt, &enc, t3, &extra, "CA", 4);
        let t4 = step(self, 0, 10 * 60 + 45);
        self.omd(pt, &enc, t4, &diet_order, "XO", 3);
        let t = step(self, 0, 10 * 60 + 50);
        self.problem_list(pt, &enc, t, true);

        // Injection: ordered, rate changed (re-sent), a duplicate cancelled; administered.
        let t = step(self, 0, 11 * 60);
        let inj = self.order_no(t, 20);
        let start = t.plus_min(45);
        self.rde_inj(pt, &enc, t, &inj, "NW", 0, start);
        let t = step(self, 0, 11 * 60 + 10);
        self.rde_inj(pt, &enc, t, &inj, "XO", 1, start);
        let t = step(self, 0, 11 * 60 + 15);
        let dup = self.order_no(t, 20);
        self.rde_inj(pt, &enc, t, &dup, "NW", 2, start.plus_min(30));
        let t = step(self, 0, 11 * 60 + 20);
        self.rde_inj(pt, &enc, t, &dup, "CA", 2, start.plus_min(30));
        self.ras_inj(pt, &enc, &inj, 1, start);
        // Regular oral medication, given after lunch.
        let oral_order = self.order_no(admit, 11);
        let oral = Some((oral_order.clone(), vec![2usize, 0]));
        let t = step(self, 0, 13 * 60);
        self.ras_oral(pt, &enc, &oral_order, &[2, 0], t);
        // Attending doctor changed, cancelled, changed again.
        let others: Vec<&'static Staff> = pt.dept.doctors.iter().collect();
        let t = step(self, 0, 16 * 60);
        if let Some(doc) = others.get(1).or(others.first()) {
            enc.doctor = *doc;
        }
        self.a54(pt, &enc, t, t, false);
        let t2 = step(self, 0, 16 * 60 + 10);
        self.a54(pt, &enc, t2, t, true);
        let t3 = step(self, 0, 16 * 60 + 20);
        self.a54(pt, &enc, t3, t3, false);

        // Days between admission and the mid day: routine care.
        let mut d = 1;
        while d < d_mid {
            let day = self.day(d);
            self.ward_day(pt, &enc, day, Ts::at(day, 0), &oral, Some(0), d == 1);
            d += 1;
        }
        if d_mid > 0 {
            let day = self.day(d_mid);
            self.ward_day(pt, &enc, day, Ts::at(day, 0), &oral, Some(0), true);
        }

        // Mid day: transfer plan (cancelled once), transfer (cancelled once), outing (cancelled
        // once), return (cancelled once).
        let t = step(self, d_mid, 8 * 60 + 30);
        let new_enc = self.move_enc(&enc);
        let tp1 = t.plus_min(90);
        let pv1_pending = self.pv1_in(&enc).f(42, new_enc.loc.clone());
        self.adt(t, ADT_A15, "ADT-41", Processing::Ins, pt, tp1, pv1_pending.clone(), pv2_8(tp1));
        let t = step(self, d_mid, 8 * 60 + 40);
        self.adt(t, ADT_A26, "ADT-41", Processing::Del, pt, tp1, pv1_pending.clone(), pv2_8(tp1));
        let t = step(self, d_mid, 8 * 60 + 50);
        let tp2 = t.plus_min(90);
        self.adt(t, ADT_A15, "ADT-41", Processing::Ins, pt, tp2, pv1_pending, pv2_8(tp2));
        let moved1 = step(self, d_mid, tp2.minute_of_day());
        let pv1_moved = self.pv1_in(&new_enc).f(6, enc.loc.clone());
        self.adt(moved1, ADT_A02, "ADT-42", Processing::Ins, pt, moved1, pv1_moved.clone(), None);
        let t = step(self, d_mid, tp2.minute_of_day() + 10);
        self.adt(t, ADT_A12, "ADT-42", Processing::Del, pt, moved1, self.pv1_in(&enc).f(6, new_enc.loc.clone()), None);
        let moved2 = step(self, d_mid, tp2.minute_of_day() + 20);
        self.adt(moved2, ADT_A02, "ADT-42", Processing::Ins, pt, moved2, pv1_moved, None);
        enc = new_enc;

        let out1 = step(self, d_mid, 13 * 60);
        let back_planned = out1.plus_min(150);
        let pv2_47 = Some(Seg::new("PV2").f(47, back_planned.dt14()));
        self.adt(out1, ADT_A21, "ADT-31", Processing::Ins, pt, out1, self.pv1_in(&enc), pv2_47.clone());
        let t = step(self, d_mid, 13 * 60 + 5);
        self.adt(t, ADT_A52, "ADT-31", Processing::Del, pt, out1, self.pv1_in(&enc), pv2_47.clone());
        let out2 = step(self, d_mid, 13 * 60 + 15);
        self.adt(out2, ADT_A21, "ADT-31", Processing::Ins, pt, out2, self.pv1_in(&enc), pv2_47.clone());
        let back1 = step(self, d_mid, 15 * 60);
        self.adt(back1, ADT_A22, "ADT-32", Processing::Ins, pt, back1, self.pv1_in(&enc), pv2_47.clone());
        let t = step(self, d_mid, 15 * 60 + 10);
        // The A53 carries the return it cancels in EVN-6 and the planned return in PV2-47.
        self.adt(t, ADT_A53, "ADT-32", Processing::Del, pt, back1, self.pv1_in(&enc), pv2_47.clone());
        let back2 = step(self, d_mid, 15 * 60 + 15);
        self.adt(back2, ADT_A22, "ADT-32", Processing::Ins, pt, back2, self.pv1_in(&enc), pv2_47);

        let mut d = d_mid + 1;
        while d < d_dis {
            let day = self.day(d);
            self.ward_day(pt, &enc, day, Ts::at(day, 0), &oral, Some(1), false);
            d += 1;
        }

        // Discharge plan (cancelled once), discharge (cancelled once).
        let t = step(self, d_dis, 8 * 60);
        let dp1 = t.plus_min(120);
        let pv2_9 = |p: Ts| Some(Seg::new("PV2").f(9, p.dt14()));
        self.adt(t, ADT_A16, "ADT-51", Processing::Ins, pt, dp1, self.pv1_in(&enc), pv2_9(dp1));
        let t = step(self, d_dis, 8 * 60 + 10);
        self.adt(t, ADT_A25, "ADT-51", Processing::Del, pt, dp1, self.pv1_in(&enc), pv2_9(dp1));
        let t = step(self, d_dis, 8 * 60 + 20);
        let dp2 = t.plus_min(160);
        self.adt(t, ADT_A16, "ADT-51", Processing::Ins, pt, dp2, self.pv1_in(&enc), pv2_9(dp2));
        let out1 = step(self, d_dis, 11 * 60);
        self.adt(
            out1,
            ADT_A03,
            "ADT-52",
            Processing::Ins,
            pt,
            out1,
            self.pv1_in(&enc).f(36, "01").f(45, out1.dt14()),
            None,
        );
        let t = step(self, d_dis, 11 * 60 + 30);
        self.adt(t, ADT_A13, "ADT-52", Processing::Del, pt, out1, self.pv1_in(&enc).f(45, out1.dt14()), None);
        let out2 = step(self, d_dis, 14 * 60);
        self.adt(
            out2,
            ADT_A03,
            "ADT-52",
            Processing::Ins,
            pt,
            out2,
            self.pv1_in(&enc).f(36, "01").f(45, out2.dt14()),
            None,
        );
    }

    /// A patient registered twice by mistake: the duplicate record is deleted (ADT^A23).
    fn duplicate_registration(&mut self, person: &Person) {
        let dup = Patient {
            id: self.next_patient_id(),
            person: person.clone(),
            dept: first_dept(self.h),
            doctor: first_doctor(self.h),
            registered: false,
            problems: Vec::new(),
            problem_list_no: None,
            allergies: Vec::new(),
        };
        let at = self.jit(Ts::at(self.day(0), 8 * 60 + 40));
        self.a08(&dup, at, false);
        let del = self.jit(at.plus_min(25));
        self.a23(&dup, del);
    }
}

static FALLBACK_DEPT: Dept = Dept { code: "01", name: "内科", doctors: &[], admits: false };
static FALLBACK_DOCTOR: Staff = Staff { id: "D0000", family: "医師", given: "一郎" };

fn first_dept(h: &'static HospitalDef) -> &'static Dept {
    h.departments.first().unwrap_or(&FALLBACK_DEPT)
}

fn first_doctor(h: &'static HospitalDef) -> &'static Staff {
    first_dept(h).doctors.first().unwrap_or(&FALLBACK_DOCTOR)
}

fn make_patient(ctx: &mut Ctx, person: Person) -> Patient {
    let h = ctx.h;
    let dept = if person.age < 15 {
        h.departments.iter().find(|d| d.code == "09").unwrap_or(first_dept(h))
    } else {
        let adult: Vec<&'static Dept> = h.departments.iter().filter(|d| d.code != "09").collect();
        let i = ctx.rng.index(adult.len());
        adult.get(i).copied().unwrap_or(first_dept(h))
    };
    let j = ctx.rng.index(dept.doctors.len());
    let doctor = dept.doctors.get(j).unwrap_or(first_doctor(h));
    Patient {
        id: ctx.next_patient_id(),
        person,
        dept,
        doctor,
        registered: false,
        problems: Vec::new(),
        problem_list_no: None,
        allergies: Vec::new(),
    }
}

/// Runs the whole simulation.
pub(crate) fn run(config: &DemoConfig, start: (i64, i64, i64)) -> Vec<DemoMessage> {
    let days = i64::from(config.days.max(1));
    let day0 = days_from_civil(start.0, start.1, start.2);
    let n = config.patients_per_hospital;
    let mut all: Vec<(Ts, usize, u64, DemoMessage)> = Vec::new();

    for (hidx, h) in HOSPITALS.iter().enumerate() {
        let mut ctx = Ctx {
            h,
            rng: Rng::stream(config.seed, hidx as u64 + 1),
            day0,
            days,
            out: Vec::new(),
            seq: 0,
            order_seq: 0,
            filler_seq: 0,
            pid_counter: h.patient_id_base,
        };
        let count = if hidx == 0 { n.max(2) } else { n };
        let mut registered_twice: Option<Person> = None;
        for i in 0..count {
            // The clinic refers every fifth patient to 登呂総合病院: same person, different ID.
            let person_index = if hidx == 2 && i % 5 == 0 { i } else { hidx * 100_000 + i };
            let person = make_person(config.seed, person_index as u64, start.0);
            if i == count.min(3) - 1 {
                registered_twice = Some(person.clone());
            }
            let mut pt = make_patient(&mut ctx, person);
            if hidx == 0 && i == 0 {
                pt.dept = first_dept(h);
                pt.doctor = first_doctor(h);
                ctx.showcase_inpatient(&mut pt);
            } else if hidx == 0 && i == 1 {
                if let Some(gi) = h.departments.iter().find(|d| d.code == "06") {
                    pt.dept = gi;
                    pt.doctor = gi.doctors.first().unwrap_or(first_doctor(h));
                }
                ctx.showcase_outpatient(&mut pt);
            } else if !h.wards.is_empty() && pt.dept.admits && ctx.rng.chance(30) {
                let last = ctx.last();
                let a = ctx.rng.range(0, last);
                ctx.stay(&mut pt, a);
            } else {
                ctx.outpatient(&mut pt);
            }
        }
        // At the two hospitals a patient is registered a second time by mistake; the duplicate
        // record is deleted.
        if let Some(person) = registered_twice.filter(|_| hidx < 2) {
            ctx.duplicate_registration(&person);
        }

        // Send order: clinical time, then creation order. MSH-7 strictly increasing (ms precision).
        let mut pending = std::mem::take(&mut ctx.out);
        pending.sort_by_key(|p| (p.at, p.seq));
        let mut last_sent = Ts(i64::MIN);
        for (n_sent, p) in pending.into_iter().enumerate() {
            let jitter = ctx.rng.range(0, 1500);
            let sent = p.at.plus_ms(jitter).max(last_sent.plus_ms(1));
            last_sent = sent;
            let control_id = format!("{}{}{:06}", h.control_prefix, sent.date8(), n_sent + 1);
            let mut text = msh(h.msh3, h.msh4, &sent.msh7(), p.mt.msh9, &control_id);
            text.push('\r');
            for s in &p.segments {
                text.push_str(&s.render());
                text.push('\r');
            }
            let bytes = crate::encode(&text);
            let msg = DemoMessage {
                facility_id: h.facility_id.to_string(),
                facility_name: h.name.to_string(),
                sending_application: h.msh3.to_string(),
                sending_facility: h.msh4.to_string(),
                kind: p.kind,
                message_type: p.mt.hl7,
                expected_processing: p.processing,
                patient_id: p.patient_id,
                care_date: p.care_date,
                order_number: p.order_number,
                control_id,
                sent_at: sent.msh7(),
                bytes,
            };
            all.push((sent, hidx, p.seq, msg));
        }
    }
    all.sort_by_key(|(t, h, s, _)| (*t, *h, *s));
    all.into_iter().map(|(_, _, _, m)| m).collect()
}

/// Checks the data tables are usable (used by tests).
#[cfg(test)]
pub(crate) fn tables_are_consistent() -> bool {
    HOSPITALS.iter().all(|h| {
        !h.departments.is_empty()
            && h.departments.iter().all(|d| !d.doctors.is_empty())
            && !h.nurses.is_empty()
            && (7..=10).contains(&h.patient_id_digits)
    }) && crate::data::INFUSIONS.iter().all(|i| !i.components.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        assert!(tables_are_consistent());
    }
}
