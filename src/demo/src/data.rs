//! Static reference data: hospitals, staff, names, addresses and the code tables the simulated
//! senders use (HOT9, JLAC10, JJ1017, LENDO, MDCDX2/ICD-10, JAMISDP01, IAM allergens).
//!
//! Every string here must be ASCII or JIS X 0208 (levels 1/2); the integration tests check the
//! encoded output byte by byte.

/// A doctor or nurse (XCN: ID, family name, given name, kanji).
#[derive(Debug)]
pub(crate) struct Staff {
    pub(crate) id: &'static str,
    pub(crate) family: &'static str,
    pub(crate) given: &'static str,
}

/// A clinical department: SS-MIX2 unified department code (= レセ電 別表10 for 01–39) and its doctors.
#[derive(Debug)]
pub(crate) struct Dept {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) doctors: &'static [Staff],
    /// Whether outpatients of this department can be admitted.
    pub(crate) admits: bool,
}

/// A ward (PL.1) and its rooms (PL.2).
#[derive(Debug)]
pub(crate) struct Ward {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) rooms: &'static [&'static str],
}

/// A simulated sending hospital.
#[derive(Debug)]
pub(crate) struct HospitalDef {
    pub(crate) facility_id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) name_en: &'static str,
    pub(crate) msh3: &'static str,
    pub(crate) msh4: &'static str,
    pub(crate) zip: &'static str,
    pub(crate) address: &'static str,
    pub(crate) phone: &'static str,
    pub(crate) departments: &'static [Dept],
    /// Empty for an outpatient-only clinic.
    pub(crate) wards: &'static [Ward],
    pub(crate) nurses: &'static [Staff],
    /// Number of digits of the hospital-local patient ID (7–10).
    pub(crate) patient_id_digits: u32,
    /// First patient ID number.
    pub(crate) patient_id_base: u64,
    /// Prefix of MSH-10 control IDs.
    pub(crate) control_prefix: &'static str,
    /// First digit of the 15-digit order numbers.
    pub(crate) order_prefix: u64,
    /// Performs upper GI endoscopy.
    pub(crate) endoscopy: bool,
    /// Has a radiology department (X-ray).
    pub(crate) radiology: bool,
}

macro_rules! staff {
    ($id:literal, $f:literal, $g:literal) => {
        Staff { id: $id, family: $f, given: $g }
    };
}

pub(crate) static HOSPITALS: [HospitalDef; 3] = [
    HospitalDef {
        facility_id: "2211900013",
        name: "登呂総合病院",
        name_en: "Toro General Hospital",
        msh3: "TOROHIS",
        msh4: "TORO_GH",
        zip: "422-8033",
        address: "静岡県静岡市駿河区登呂2丁目10番1号",
        phone: "054-281-1111",
        departments: &[
            Dept {
                code: "01",
                name: "内科",
                doctors: &[staff!("D0101", "望月", "健司"), staff!("D0102", "杉山", "由紀")],
                admits: true,
            },
            Dept { code: "06", name: "消化器科", doctors: &[staff!("D0601", "海野", "拓")], admits: true },
            Dept { code: "08", name: "循環器科", doctors: &[staff!("D0801", "青島", "亮介")], admits: true },
            Dept { code: "10", name: "外科", doctors: &[staff!("D1001", "大石", "隆")], admits: true },
            Dept { code: "11", name: "整形外科", doctors: &[staff!("D1101", "芹沢", "直人")], admits: true },
            Dept { code: "15", name: "呼吸器外科", doctors: &[staff!("D1501", "長田", "誠")], admits: true },
        ],
        wards: &[
            Ward { code: "31", name: "3階東病棟", rooms: &["301", "302", "303", "305", "306", "307"] },
            Ward { code: "41", name: "4階西病棟", rooms: &["401", "402", "403", "405", "406"] },
            Ward { code: "52", name: "5階東病棟", rooms: &["501", "502", "503", "505", "506", "507", "508"] },
        ],
        nurses: &[staff!("N2001", "石川", "美穂"), staff!("N2002", "秋山", "真理"), staff!("N2003", "遠藤", "沙織")],
        patient_id_digits: 10,
        patient_id_base: 1_002_300,
        control_prefix: "TG",
        order_prefix: 1,
        endoscopy: true,
        radiology: true,
    },
    HospitalDef {
        facility_id: "2211900021",
        name: "駿河市民病院",
        name_en: "Suruga Municipal Hospital",
        msh3: "EHR-SURUGA",
        msh4: "2211900021",
        zip: "422-8067",
        address: "静岡県静岡市駿河区南町14番25号",
        phone: "054-283-2222",
        departments: &[
            Dept {
                code: "01",
                name: "内科",
                doctors: &[staff!("S0101", "村松", "千秋"), staff!("S0102", "小池", "浩")],
                admits: true,
            },
            Dept { code: "05", name: "呼吸器科", doctors: &[staff!("S0501", "池谷", "昌平")], admits: true },
            Dept { code: "09", name: "小児科", doctors: &[staff!("S0901", "河合", "恵美")], admits: false },
            Dept { code: "10", name: "外科", doctors: &[staff!("S1001", "植田", "剛")], admits: true },
            Dept { code: "11", name: "整形外科", doctors: &[staff!("S1101", "土屋", "大樹")], admits: true },
        ],
        wards: &[
            Ward { code: "2E", name: "2階東病棟", rooms: &["201", "202", "203", "205"] },
            Ward { code: "3W", name: "3階西病棟", rooms: &["301", "302", "303", "305", "306"] },
            Ward { code: "4E", name: "4階東病棟", rooms: &["401", "402", "403"] },
        ],
        nurses: &[staff!("N3001", "片山", "綾"), staff!("N3002", "寺田", "香織")],
        patient_id_digits: 8,
        patient_id_base: 20_104_000,
        control_prefix: "SR",
        order_prefix: 2,
        endoscopy: false,
        radiology: true,
    },
    HospitalDef {
        facility_id: "2211900039",
        name: "清水台クリニック",
        name_en: "Shimizudai Clinic",
        msh3: "CLINIC-EMR",
        msh4: "SHIMIZUDAI",
        zip: "424-0806",
        address: "静岡県静岡市清水区辻4丁目8番15号",
        phone: "054-366-3333",
        departments: &[Dept {
            code: "01", name: "内科", doctors: &[staff!("C01", "深沢", "敏彦")], admits: false
        }],
        wards: &[],
        nurses: &[staff!("C51", "中野", "美和")],
        patient_id_digits: 7,
        patient_id_base: 3_000_100,
        control_prefix: "SC",
        order_prefix: 3,
        endoscopy: false,
        radiology: true,
    },
];

/// Family names: (kanji, kana).
pub(crate) static FAMILY_NAMES: [(&str, &str); 40] = [
    ("鈴木", "スズキ"),
    ("佐藤", "サトウ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("渡辺", "ワタナベ"),
    ("伊藤", "イトウ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("望月", "モチヅキ"),
    ("杉山", "スギヤマ"),
    ("増田", "マスダ"),
    ("山田", "ヤマダ"),
    ("松浦", "マツウラ"),
    ("石川", "イシカワ"),
    ("大石", "オオイシ"),
    ("勝又", "カツマタ"),
    ("村松", "ムラマツ"),
    ("青島", "アオシマ"),
    ("海野", "ウンノ"),
    ("秋山", "アキヤマ"),
    ("小池", "コイケ"),
    ("芹沢", "セリザワ"),
    ("土屋", "ツチヤ"),
    ("深沢", "フカサワ"),
    ("長田", "オサダ"),
    ("池谷", "イケヤ"),
    ("植田", "ウエダ"),
    ("河合", "カワイ"),
    ("森", "モリ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("斉藤", "サイトウ"),
    ("原", "ハラ"),
    ("中野", "ナカノ"),
    ("遠藤", "エンドウ"),
    ("岩崎", "イワサキ"),
    ("寺田", "テラダ"),
    ("片山", "カタヤマ"),
];

/// Male given names: (kanji, kana).
pub(crate) static MALE_NAMES: [(&str, &str); 25] = [
    ("太郎", "タロウ"),
    ("健一", "ケンイチ"),
    ("大輔", "ダイスケ"),
    ("翔太", "ショウタ"),
    ("誠", "マコト"),
    ("博之", "ヒロユキ"),
    ("和夫", "カズオ"),
    ("茂", "シゲル"),
    ("勇", "イサム"),
    ("隆", "タカシ"),
    ("浩二", "コウジ"),
    ("拓也", "タクヤ"),
    ("悠真", "ユウマ"),
    ("蓮", "レン"),
    ("正雄", "マサオ"),
    ("清", "キヨシ"),
    ("修", "オサム"),
    ("直樹", "ナオキ"),
    ("亮", "リョウ"),
    ("陽翔", "ハルト"),
    ("達也", "タツヤ"),
    ("健太", "ケンタ"),
    ("秀樹", "ヒデキ"),
    ("一郎", "イチロウ"),
    ("進", "ススム"),
];

/// Female given names: (kanji, kana).
pub(crate) static FEMALE_NAMES: [(&str, &str); 25] = [
    ("花子", "ハナコ"),
    ("陽子", "ヨウコ"),
    ("恵子", "ケイコ"),
    ("幸子", "サチコ"),
    ("美咲", "ミサキ"),
    ("葵", "アオイ"),
    ("真由美", "マユミ"),
    ("由美子", "ユミコ"),
    ("結衣", "ユイ"),
    ("さくら", "サクラ"),
    ("明美", "アケミ"),
    ("和子", "カズコ"),
    ("千尋", "チヒロ"),
    ("久美子", "クミコ"),
    ("節子", "セツコ"),
    ("智子", "トモコ"),
    ("直子", "ナオコ"),
    ("裕子", "ユウコ"),
    ("陽菜", "ヒナ"),
    ("芽依", "メイ"),
    ("文子", "フミコ"),
    ("京子", "キョウコ"),
    ("愛", "アイ"),
    ("舞", "マイ"),
    ("静香", "シズカ"),
];

/// Patient home areas: (postal code, address without block number, telephone area code).
pub(crate) static AREAS: [(&str, &str, &str); 12] = [
    ("422-8033", "静岡県静岡市駿河区登呂", "054"),
    ("422-8067", "静岡県静岡市駿河区南町", "054"),
    ("422-8041", "静岡県静岡市駿河区中田", "054"),
    ("420-0031", "静岡県静岡市葵区呉服町", "054"),
    ("420-0853", "静岡県静岡市葵区追手町", "054"),
    ("420-0035", "静岡県静岡市葵区七間町", "054"),
    ("424-0806", "静岡県静岡市清水区辻", "054"),
    ("424-0823", "静岡県静岡市清水区島崎町", "054"),
    ("424-0816", "静岡県静岡市清水区真砂町", "054"),
    ("425-0026", "静岡県焼津市焼津", "054"),
    ("426-0025", "静岡県藤枝市藤枝", "054"),
    ("410-0801", "静岡県沼津市大手町", "055"),
];

/// An oral drug: HOT9 code, name, dose unit, dose per time, times per day, JAMISDP01 usage.
#[derive(Debug)]
pub(crate) struct OralDrug {
    pub(crate) hot9: &'static str,
    pub(crate) name: &'static str,
    /// MR9P unit code and name, e.g. ("TAB", "錠").
    pub(crate) unit: (&'static str, &'static str),
    /// MR9P dosage form, e.g. ("TAB", "錠剤").
    pub(crate) form: (&'static str, &'static str),
    pub(crate) dose: u32,
    pub(crate) usage: &'static Usage,
}

/// A JAMI standard usage (JAMISDP01, 16 digits) and how many administrations per day it means.
#[derive(Debug)]
pub(crate) struct Usage {
    pub(crate) code: &'static str,
    pub(crate) text: &'static str,
    pub(crate) per_day: u32,
}

pub(crate) static USAGE_TID: Usage =
    Usage { code: "1013044400000000", text: "内服・経口・１日３回朝昼夕食後", per_day: 3 };
pub(crate) static USAGE_BID: Usage =
    Usage { code: "1012040400000000", text: "内服・経口・１日２回朝夕食後", per_day: 2 };
pub(crate) static USAGE_QD: Usage =
    Usage { code: "1011040000000000", text: "内服・経口・１日１回朝食後", per_day: 1 };

/// HOT9 codes and names as they appear in the SS-MIX2 guideline samples and JP Core examples.
pub(crate) static ORAL_DRUGS: [OralDrug; 5] = [
    OralDrug {
        hot9: "103835401",
        name: "ムコダイン錠２５０ｍｇ",
        unit: ("TAB", "錠"),
        form: ("TAB", "錠剤"),
        dose: 2,
        usage: &USAGE_TID,
    },
    OralDrug {
        hot9: "110626901",
        name: "パンスポリンＴ錠１００",
        unit: ("TAB", "錠"),
        form: ("TAB", "錠剤"),
        dose: 1,
        usage: &USAGE_TID,
    },
    OralDrug {
        hot9: "121431401",
        name: "アムロジピンＯＤ錠１０ｍｇ",
        unit: ("TAB", "錠"),
        form: ("TAB", "錠剤"),
        dose: 1,
        usage: &USAGE_QD,
    },
    OralDrug {
        hot9: "100607002",
        name: "アレビアチン１０倍散",
        unit: ("MG", "ミリグラム"),
        form: ("PWD", "散剤"),
        dose: 50,
        usage: &USAGE_BID,
    },
    OralDrug {
        hot9: "108665201",
        name: "ダーゼン錠５ｍｇ",
        unit: ("TAB", "錠"),
        form: ("TAB", "錠剤"),
        dose: 1,
        usage: &USAGE_TID,
    },
];

/// One component of an injection (RXC): HOT9, name, amount, MR9P unit, volume in mL.
#[derive(Debug)]
pub(crate) struct InjComponent {
    pub(crate) hot9: &'static str,
    pub(crate) name: &'static str,
    pub(crate) amount: u32,
    pub(crate) unit: (&'static str, &'static str),
    pub(crate) volume_ml: u32,
}

/// An infusion: components (first is the base solution) and the rate in mL/h.
#[derive(Debug)]
pub(crate) struct Infusion {
    pub(crate) components: &'static [InjComponent],
    pub(crate) rate_ml_h: u32,
    pub(crate) instruction: &'static str,
}

const SOLITA_T3: InjComponent = InjComponent {
    hot9: "107750602",
    name: "ソリタ－Ｔ３号輸液５００ｍＬ",
    amount: 1,
    unit: ("HON", "本"),
    volume_ml: 500,
};
const ADONA: InjComponent = InjComponent {
    hot9: "108010001",
    name: "アドナ注（静脈用）５０ｍｇ／１０ｍＬ",
    amount: 1,
    unit: ("AMP", "アンプル"),
    volume_ml: 10,
};
const GLUCOSE5: InjComponent =
    InjComponent {
        hot9: "107359101", name: "大塚糖液５％２５０ｍＬ", amount: 1, unit: ("HON", "本"), volume_ml: 250
    };

pub(crate) static INFUSIONS: [Infusion; 3] = [
    Infusion { components: &[SOLITA_T3, ADONA], rate_ml_h: 102, instruction: "５時間一定速度で" },
    Infusion { components: &[SOLITA_T3], rate_ml_h: 100, instruction: "５時間一定速度で" },
    Infusion { components: &[GLUCOSE5], rate_ml_h: 125, instruction: "２時間一定速度で" },
];

/// A JLAC10 laboratory item with its unit and (lower, upper, decimals) reference range.
#[derive(Debug)]
pub(crate) struct LabItem {
    pub(crate) jlac10: &'static str,
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) low: f64,
    pub(crate) high: f64,
    pub(crate) decimals: usize,
}

macro_rules! lab {
    ($c:literal, $n:literal, $u:literal, $lo:literal, $hi:literal, $d:literal) => {
        LabItem { jlac10: $c, name: $n, unit: $u, low: $lo, high: $hi, decimals: $d }
    };
}

/// 生化学 (serum, JLAC10 material 023).
pub(crate) static CHEMISTRY: [LabItem; 12] = [
    lab!("3A010000002327101", "総蛋白", "g/dL", 6.6, 8.1, 1),
    lab!("3A015000002327101", "アルブミン", "g/dL", 4.1, 5.1, 1),
    lab!("3B035000002327201", "AST(GOT)", "U/L", 13.0, 30.0, 0),
    lab!("3B045000002327201", "ALT(GPT)", "U/L", 10.0, 42.0, 0),
    lab!("3B050000002327201", "LD", "U/L", 124.0, 222.0, 0),
    lab!("3B090000002327201", "γ-GT", "U/L", 13.0, 64.0, 0),
    lab!("3C015000002327101", "クレアチニン", "mg/dL", 0.65, 1.07, 2),
    lab!("3C025000002327101", "尿素窒素", "mg/dL", 8.0, 20.0, 1),
    lab!("3H010000002326101", "ナトリウム", "mmol/L", 138.0, 145.0, 0),
    lab!("3H015000002326101", "カリウム", "mmol/L", 3.6, 4.8, 1),
    lab!("3H020000002326101", "クロール", "mmol/L", 101.0, 108.0, 0),
    lab!("5C070000002327101", "CRP", "mg/dL", 0.0, 0.14, 2),
];

/// 血液学 (whole blood, JLAC10 material 019).
pub(crate) static HEMATOLOGY: [LabItem; 4] = [
    lab!("2A990000001930101", "白血球数", "10*3/uL", 3.3, 8.6, 1),
    lab!("2A030000001930102", "ヘモグロビン", "g/dL", 11.6, 16.8, 1),
    lab!("2A050000001930101", "血小板数", "10*4/uL", 15.8, 34.8, 1),
    lab!("3D045000001906202", "HbA1c(NGSP)", "%", 4.9, 6.0, 1),
];

/// A radiology procedure (JJ1017, 32 digits).
pub(crate) static XRAY: [(&str, &str); 3] = [
    ("10000002000102000000010000000000", "胸部.Ｘ線単純撮影.立位正面(A→P)"),
    ("10000002000106000000010000000000", "胸部.Ｘ線単純撮影.立位側面(L→R)"),
    ("10000002500102000000010000000000", "腹部.Ｘ線単純撮影.立位正面(A→P)"),
];

/// Endoscopy (LENDO): ordered procedure and performed procedures.
pub(crate) const ENDO_ORDER: (&str, &str) = ("11000000000", "検査.上部.-.-.-.-");
pub(crate) const ENDO_DONE: (&str, &str) = ("11000001000", "検査.上部.-.-.上部通常内視鏡.-");
pub(crate) const ENDO_BIOPSY: (&str, &str) = ("11020001401", "検査.上部.胃.-.上部通常内視鏡.生検採取");

/// Resting 12-lead ECG (JLAC10 analyte 9A110, as in the guideline samples).
pub(crate) const ECG: (&str, &str) = ("9A110", "標準１２誘導心電図");

/// ECG findings (free text).
pub(crate) static ECG_FINDINGS: [&str; 4] =
    ["洞調律。正常範囲内。", "洞性頻脈。", "完全右脚ブロック。", "左室肥大の疑い。"];

/// A problem-list entry: MEDIS 病名管理番号, 交換用コード (empty when not coded), name, ICD-10.
#[derive(Debug)]
pub(crate) struct Disease {
    pub(crate) mdcdx2: &'static str,
    pub(crate) exchange: &'static str,
    pub(crate) name: &'static str,
    pub(crate) icd10: &'static str,
}

/// MEDIS management number for 未コード化傷病名 (free-text diagnosis), as NHO uses it.
pub(crate) const UNCODED: &str = "20084317";

macro_rules! dis {
    ($m:expr, $x:literal, $n:literal, $i:literal) => {
        Disease { mdcdx2: $m, exchange: $x, name: $n, icd10: $i }
    };
}

/// Coded diagnoses use MEDIS codes published in the SS-MIX2 guideline / JP Core examples; the
/// others are sent as 未コード化傷病名 with the ICD-10 the hospital coder assigned.
pub(crate) static DISEASES: [Disease; 10] = [
    dis!("20054174", "TSQF", "胃炎", "K297"),
    dis!("20069737", "VSES", "大腸炎", "K529"),
    dis!("20058257", "HR19", "急性化膿性虫垂炎", "K358"),
    dis!(UNCODED, "", "高血圧症", "I10"),
    dis!(UNCODED, "", "２型糖尿病", "E119"),
    dis!(UNCODED, "", "脂質異常症", "E785"),
    dis!(UNCODED, "", "気管支喘息", "J459"),
    dis!(UNCODED, "", "腰部脊柱管狭窄症", "M4806"),
    dis!(UNCODED, "", "逆流性食道炎", "K210"),
    dis!(UNCODED, "", "肺炎", "J189"),
];

/// An allergy for IAM (ADT^A60): type (HL70127), allergen code/name/system, reaction.
#[derive(Debug)]
pub(crate) struct Allergy {
    pub(crate) kind: (&'static str, &'static str),
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) system: &'static str,
    pub(crate) reaction: &'static str,
}

pub(crate) static ALLERGIES: [Allergy; 5] = [
    Allergy {
        kind: ("LA", "花粉アレルギー"),
        code: "5A1002216023023",
        name: "スギ",
        system: "JC10",
        reaction: "目のかゆみ",
    },
    Allergy {
        kind: ("FA", "食物アレルギー"), code: "5A1002411023006", name: "ソバ", system: "JC10", reaction: "湿疹"
    },
    Allergy {
        kind: ("EA", "環境アレルギー"),
        code: "5A1102700023023",
        name: "ハウスダスト",
        system: "JC10",
        reaction: "くしゃみ",
    },
    Allergy {
        kind: ("DA", "薬剤アレルギー"), code: "106824501", name: "アリナミン", system: "HOT9", reaction: "発疹"
    },
    Allergy {
        kind: ("DA", "薬剤アレルギー"),
        code: "110626901",
        name: "パンスポリンＴ錠１００",
        system: "HOT9",
        reaction: "じんましん",
    },
];

/// Hospital diets (local code system 99ODS).
pub(crate) static DIETS: [(&str, &str, &str); 5] = [
    ("001", "常食", ""),
    ("002", "全粥食", ""),
    ("010", "エネルギー制限食", "１６００ｋｃａｌ"),
    ("020", "減塩食", "塩分６ｇ"),
    ("030", "五分粥食", ""),
];

/// Insurance plans (JHSD0001) and insurer numbers.
pub(crate) static INSURANCE: [(&str, &str, &str); 4] = [
    ("01", "全国健康保険協会管掌健康保険", "01220016"),
    ("06", "組合管掌健康保険", "06221402"),
    ("67", "国民健康保険退職者", "67220017"),
    ("39", "後期高齢者医療", "39220008"),
];
