//! The Swedish texts of the text benchmarks (`benches/text.rs`, `examples/text_rate.rs`, and
//! through the files the example writes, `benches/presidio/bench.py`): generated, deterministic,
//! so that every run and both sides measure the same bytes.
//!
//! Two corpora: chat-sized prompts (100 B–2 KB, mean about 350 B) and 16 KB documents (case
//! notes, meeting minutes, e-mail threads), of municipal Swedish. A share of the sentences holds
//! information: personnummer in every written form, samordningsnummer, and what must not be
//! taken for one (organisationsnummer, dates, phone numbers, case numbers), e-mail addresses,
//! secrecy and security-protection markings, health words. Each text comes with the identity
//! numbers written into it, so that what a finder finds can be checked.

#![allow(dead_code)] // each user takes its part

use aipolicy::text::personnummer::check_digit;

#[path = "../common/lcg.rs"]
mod lcg;
pub use lcg::Lcg;

/// A generated text and what was written into it.
pub struct Text {
    /// The text.
    pub text: String,
    /// The personnummer and samordningsnummer written into it, as written.
    pub identities: Vec<String>,
    /// Phone numbers written as ten bare digits that are also a valid personnummer (a real date
    /// and check digit): a finder may rightly take them for one.
    pub ambiguous: Vec<String>,
}

const FIRST: &[&str] = &[
    "Anna", "Erik", "Maria", "Lars", "Fatima", "Mohammed", "Sara", "Johan", "Eva", "Åsa", "Björn",
    "Karin", "Per", "Ingrid", "Ali", "Elin", "Göran", "Linnéa",
];
const LAST: &[&str] = &[
    "Svensson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Hassan",
    "Lindqvist",
    "Berg",
    "Öberg",
    "Ek",
    "Ström",
    "Åkesson",
    "Jönsson",
    "Yilmaz",
];
const EMAIL_DOMAINS: &[&str] = &[
    "askersund.se",
    "kommun.se",
    "vard.regionorebro.se",
    "gmail.com",
    "skola.laxa.se",
];
const COMPANIES: &[&str] = &[
    "Bygg & Mark AB",
    "Omsorgspartner i Mellansverige AB",
    "Närkes Städtjänst HB",
    "IT-konsulterna Sverige AB",
    "Stiftelsen Äldrebo",
];
const PLACES: &[&str] = &[
    "förskolan Solrosen",
    "Hagaskolan",
    "kvarteret Björken",
    "Sjögatan 4",
    "äldreboendet Linden",
    "kommunhuset",
    "biblioteket",
];

/// Sentences without information: what most of a municipality's text is.
const PLAIN: &[&str] = &[
    "Kan du sammanfatta protokollet från kommunstyrelsens sammanträde i förra veckan?",
    "Skriv ett utkast till svar på medborgarförslaget om nya cykelbanor i centrum.",
    "Förvaltningen föreslår att nämnden godkänner upphandlingen av skolskjutsar.",
    "Hjälp mig formulera ett mejl till rektorerna om den nya läsårsplaneringen.",
    "Vi behöver en checklista inför tillsynsbesöket, gärna i punktform.",
    "Översätt följande stycke till lättläst svenska så att fler kan förstå det.",
    "Sammanfatta remissvaren om detaljplanen och lista de viktigaste synpunkterna.",
    "Bygglovsansökan har kompletterats med nya ritningar och en situationsplan.",
    "Budgeten för nästa år behöver minskas med två procent inom alla verksamheter.",
    "Nämnden beslutar att uppdra åt förvaltningen att utreda frågan vidare.",
    "Mötet flyttas till torsdag kl. 13.30 i sammanträdesrummet Vättern.",
    "Kostnaden beräknas till 12 345 kr per månad exklusive moms.",
    "Föreslå tre rubriker till nyhetsbrevet om höstens evenemang på biblioteket.",
    "Hur skriver man en bra kallelse till ett samråd om vägbygget?",
    "Enheten har under året arbetat med att förbättra introduktionen för nyanställda.",
    "Ge förslag på hur vi kan minska pappersanvändningen i administrationen.",
    "Uppföljningen visar att målen för andra kvartalet i stort sett har nåtts.",
    "Skriv om texten i en vänligare ton, den ska skickas till alla vårdnadshavare.",
    "Vi önskar en tidplan för införandet av det nya ärendehanteringssystemet.",
    "Protokollet justeras av ordföranden och en utsedd justerare inom två veckor.",
    "Kommunen har 11 200 invånare och 14 grundskolor enligt senaste statistiken.",
    "Vilka regler gäller för att arkivera e-post som rör myndighetsutövning?",
    "Kontrollera att beslutsunderlaget följer kommunens mall för tjänsteskrivelser.",
    "Snöröjningen prioriterar gång- och cykelvägar före bilvägar i år.",
];

/// Headings of documents and e-mails.
const HEADINGS: &[&str] = &[
    "Journalanteckning",
    "Protokoll från sammanträde",
    "Tjänsteskrivelse",
    "Angående ärendet",
    "Minnesanteckningar",
    "Vidarebefordrat meddelande",
];

/// A birth date: year, month, day.
fn birth(rng: &mut Lcg, from: u64, to: u64) -> (u64, u64, u64) {
    let year = from + rng.below(to - from);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(days_in(year, month));
    (year, month, day)
}

fn days_in(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b - b'0').collect()
}

/// Whether ten bare digits are a valid personnummer or samordningsnummer: a date (of either
/// century) and the check digit. Written apart from the library's finder, to check it.
pub fn is_identity(ten: &str) -> bool {
    if ten.len() != 10 || !ten.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d = digits(ten);
    let (yy, month, mut day) = (
        u64::from(d[0] * 10 + d[1]),
        u64::from(d[2] * 10 + d[3]),
        u64::from(d[4] * 10 + d[5]),
    );
    if day > 60 {
        day -= 60;
    }
    let dated = [1900, 2000]
        .iter()
        .any(|c| (1..=12).contains(&month) && day >= 1 && day <= days_in(c + yy, month));
    dated && check_digit(&d[..9]) == d[9]
}

/// A personnummer (or, `coordination`, a samordningsnummer) in one of its seven written forms.
fn identity(rng: &mut Lcg, coordination: bool) -> String {
    let form = rng.below(7);
    // `+` is written for someone of a hundred or more.
    let (year, month, day) = if form == 1 {
        birth(rng, 1912, 1926)
    } else {
        birth(rng, 1930, 2025)
    };
    let day = if coordination { day + 60 } else { day };
    let nine = format!("{:02}{month:02}{day:02}{:03}", year % 100, rng.below(1000));
    let ten = format!("{nine}{}", check_digit(&digits(&nine)));
    let (date, last) = ten.split_at(6);
    let century = year / 100;
    match form {
        0 => format!("{date}-{last}"),
        1 => format!("{date}+{last}"),
        2 => format!("{date} {last}"),
        3 => ten,
        4 => format!("{century}{date}-{last}"),
        5 => format!("{century}{date} {last}"),
        _ => format!("{century}{ten}"),
    }
}

/// An organisationsnummer: a "month" of 20 or more, a check digit; sometimes with the century
/// `16`, sometimes without the hyphen.
fn organisation(rng: &mut Lcg) -> String {
    let first = [2u64, 5, 7, 8, 9][rng.below(5) as usize];
    let nine = format!(
        "{first}{}{}{:06}",
        rng.below(10),
        2 + rng.below(8),
        rng.below(1_000_000)
    );
    let ten = format!("{nine}{}", check_digit(&digits(&nine)));
    match rng.below(4) {
        0 => format!("16{}-{}", &ten[..6], &ten[6..]),
        1 => ten,
        _ => format!("{}-{}", &ten[..6], &ten[6..]),
    }
}

/// A date: ISO with hyphens, eight digits, or in words.
fn date(rng: &mut Lcg) -> String {
    let (year, month, day) = birth(rng, 2024, 2028);
    match rng.below(4) {
        0 => format!("{year}{month:02}{day:02}"),
        1 => format!(
            "{day} {} {year}",
            [
                "januari",
                "februari",
                "mars",
                "april",
                "maj",
                "juni",
                "juli",
                "augusti",
                "september",
                "oktober",
                "november",
                "december"
            ][(month - 1) as usize]
        ),
        _ => format!("{year}-{month:02}-{day:02}"),
    }
}

/// A Swedish phone number in one of its written forms, and whether it is ten bare digits that
/// are also a valid personnummer.
fn phone(rng: &mut Lcg) -> (String, bool) {
    let mobile = format!("7{}", [0, 2, 3, 6][rng.below(4) as usize]);
    let n = |rng: &mut Lcg, width: usize| format!("{:0width$}", rng.below(10u64.pow(width as u32)));
    let (a, b, c) = (n(rng, 3), n(rng, 2), n(rng, 2));
    let written = match rng.below(8) {
        0 => format!("0{mobile}-{a} {b} {c}"),
        1 => format!("0{mobile} {a} {b} {c}"),
        2 => format!("+46 {mobile} {a} {b} {c}"),
        3 | 4 => format!("0{mobile}{a}{b}{c}"),
        5 => format!("08-{a} {} {b}", n(rng, 3)),
        6 => format!("031-{b} {c} {}", n(rng, 2)),
        _ => format!("(0583) {a} {b}"),
    };
    let ambiguous = is_identity(&written);
    (written, ambiguous)
}

fn name(rng: &mut Lcg) -> String {
    format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
}

fn email(rng: &mut Lcg) -> String {
    let ascii = |s: &str| -> String {
        s.to_lowercase()
            .replace(['å', 'ä'], "a")
            .replace('ö', "o")
            .replace('é', "e")
    };
    format!(
        "{}.{}@{}",
        ascii(rng.pick(FIRST)),
        ascii(rng.pick(LAST)),
        rng.pick(EMAIL_DOMAINS)
    )
}

/// One sentence with information, appended to `out`, what it holds noted in `text`.
fn informative(rng: &mut Lcg, out: &mut String, text: &mut Text) {
    let who = name(rng);
    let sentence = match rng.below(16) {
        0..=2 => {
            let pnr = identity(rng, false);
            text.identities.push(pnr.clone());
            match rng.below(3) {
                0 => format!("Klienten {who}, personnummer {pnr}, har ansökt om ekonomiskt bistånd."),
                1 => format!("Ärendet gäller {who} ({pnr}) som bor nära {}.", rng.pick(PLACES)),
                _ => format!("Pnr: {pnr}. Vårdnadshavare är {who}."),
            }
        }
        3 => {
            let snr = identity(rng, true);
            text.identities.push(snr.clone());
            format!("Skatteverket har tilldelat {who} samordningsnummer {snr} i väntan på folkbokföring.")
        }
        4 | 5 => format!(
            "Leverantören {} med organisationsnummer {} har lämnat anbud, giltigt till {}.",
            rng.pick(COMPANIES),
            organisation(rng),
            date(rng)
        ),
        6 | 7 => format!(
            "Beslutet fattades {} och gäller från {}, dnr KS {}/{}.",
            date(rng),
            date(rng),
            2020 + rng.below(7),
            rng.below(1000)
        ),
        8 | 9 => {
            let (number, ambiguous) = phone(rng);
            if ambiguous {
                text.ambiguous.push(number.clone());
            }
            match rng.below(2) {
                0 => format!("Ring {who} på {number} eller mejla {}.", email(rng)),
                _ => format!("Handläggare: {who}, tel {number}."),
            }
        }
        10 => format!("Svara gärna till {} före fredag.", email(rng)),
        11 => rng
            .pick(&[
                "Handlingen är sekretessbelagd enligt 26 kap. 1 § OSL.",
                "Uppgifterna omfattas av sekretess enligt 21 kap. 7 § offentlighets- och sekretesslagen.",
                "HEMLIG – uppgifter som rör säkerhetsskyddet får inte lämnas ut.",
                "Sekretess gäller för uppgifter om enskilds personliga förhållanden.",
            ])
            .to_string(),
        12 => format!("{who} är sjukskriven sedan {} på grund av depression.", date(rng)),
        13 => rng
            .pick(&[
                "Barnet har en diagnos inom autismspektrum och behöver anpassad skolgång.",
                "Läkarintyg om funktionsnedsättning har bifogats ansökan om LSS-insats.",
                "Den enskilde har ett pågående missbruk och har erbjudits rehabilitering.",
                "Uppgifter om fackmedlemskap ska inte registreras i personalsystemet.",
            ])
            .to_string(),
        14 => format!(
            "Faktura {} på {} kr förfaller {}.",
            1_000_000 + rng.below(9_000_000),
            100 + rng.below(90_000),
            date(rng)
        ),
        _ => format!(
            "Möte med {who} den {} kl. {}.{:02} på {}.",
            date(rng),
            8 + rng.below(9),
            rng.below(4) * 15,
            rng.pick(PLACES)
        ),
    };
    out.push_str(&sentence);
}

/// Appends sentences to `text` until it is at least `target` bytes long, a sentence in
/// `informative_percent` holding information.
fn fill(rng: &mut Lcg, text: &mut Text, target: usize, informative_percent: u64) {
    let mut out = std::mem::take(&mut text.text);
    while out.len() < target {
        if !out.is_empty() {
            out.push(if rng.chance(15) { '\n' } else { ' ' });
        }
        if rng.chance(informative_percent) {
            informative(rng, &mut out, text);
        } else {
            out.push_str(rng.pick(PLAIN));
        }
    }
    text.text = out;
}

/// The end of the last sentence within the first `limit` bytes of `text`.
fn last_sentence_end(text: &str, limit: usize) -> usize {
    text.as_bytes()[..limit]
        .iter()
        .rposition(|&b| b == b'.' || b == b'?')
        .map_or(0, |i| i + 1)
}

/// `count` chat prompts of 100 B–2 KB, mean about 350 B: a request and its context.
pub fn prompts(count: usize) -> Vec<Text> {
    let mut rng = Lcg(0x7e57_9a1c);
    (0..count)
        .map(|_| {
            // Mostly short, a long tail: 100 B + the sum of three draws, up to 2 KB.
            let tail = if rng.chance(10) { 1500 } else { 60 };
            let target = (100 + rng.below(120) + rng.below(120) + rng.below(tail)) as usize;
            let mut text = Text {
                text: String::new(),
                identities: Vec::new(),
                ambiguous: Vec::new(),
            };
            fill(&mut rng, &mut text, target, 14);
            if text.text.len() > 2048 {
                // One long sentence too many: cut at the last sentence within 2 KB.
                let cut = last_sentence_end(&text.text, 2048);
                text.text.truncate(cut);
                text.identities.retain(|n| text.text.contains(n.as_str()));
                text.ambiguous.retain(|n| text.text.contains(n.as_str()));
            }
            text
        })
        .collect()
}

/// The bytes of a document: 16 KB.
pub const DOCUMENT: usize = 16 * 1024;

/// `count` documents of 16 KB: a heading, then paragraphs of case notes, minutes or e-mail.
pub fn documents(count: usize) -> Vec<Text> {
    let mut rng = Lcg(0xd0c5_2026);
    (0..count)
        .map(|i| {
            let mut text = Text {
                text: format!("{} {}\n\n", rng.pick(HEADINGS), i + 1),
                identities: Vec::new(),
                ambiguous: Vec::new(),
            };
            fill(&mut rng, &mut text, DOCUMENT + 1, 10);
            // Cut to the last whole sentence within 16 KB.
            let cut = last_sentence_end(&text.text, DOCUMENT);
            text.text.truncate(cut);
            text.identities.retain(|n| text.text.contains(n.as_str()));
            text.ambiguous.retain(|n| text.text.contains(n.as_str()));
            text
        })
        .collect()
}

/// Texts every number of which is a near miss: a personnummer's shape with a wrong check digit
/// or a day that is none, long runs of digits and separators, dates and phone numbers, packed
/// together. The worst case of the digit finders, for linearity.
pub fn near_misses(bytes: usize) -> String {
    let mut rng = Lcg(0x4ea7_0001);
    let mut out = String::with_capacity(bytes + 64);
    while out.len() < bytes {
        let (year, month, day) = birth(&mut rng, 1930, 2025);
        let nine = format!("{:02}{month:02}{day:02}{:03}", year % 100, rng.below(1000));
        let wrong = (check_digit(&digits(&nine)) + 1 + rng.below(9) as u8) % 10;
        let piece = match rng.below(6) {
            0 => format!("{nine}{wrong}"),
            1 => format!("{}-{}{wrong}", &nine[..6], &nine[6..]),
            2 => format!(
                "{:02}{:02}{:02}-{:04}",
                year % 100,
                month,
                32 + rng.below(28),
                rng.below(10_000)
            ),
            3 => format!(
                "{} {} {}",
                rng.below(1_000_000),
                rng.below(10_000),
                rng.below(1_000_000)
            ),
            4 => format!("0{}-{}", rng.below(1_000_000), rng.below(1_000_000_000)),
            _ => format!("{year}{month:02}{day:02}"),
        };
        out.push_str(&piece);
        out.push(if rng.chance(50) { ' ' } else { '-' });
    }
    out
}
