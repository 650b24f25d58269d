//! What the staff page tells people about what is kept of their questions (GDPR art. 13; the
//! policy's §5, transparency): read off the service's own settings when it starts, so that
//! what every page says is true of this service, not of a service in general.

use aipolicy::Language;
use aipolicy_log::Retention;

use super::layout::tr;

/// What becomes of a question asked on the staff page.
#[derive(Debug, Clone, Default)]
pub struct Privacy {
    /// How the page's decisions are logged; `None`: they are not (the service has no decision
    /// log).
    pub logged: Option<Logged>,
}

/// How the page's decisions are logged.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Who a record names.
    pub who: Who,
    /// How long records are kept; `None`: not known to the page (a log of an embedder's own).
    pub retention: Option<Retention>,
}

/// Who a record of the page's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Nobody: without single sign-on, only the role the visitor chose.
    RoleOnly,
    /// Behind single sign-on, a pseudonym of the signed-in person (`--log-pseudonymize`).
    Pseudonym,
    /// Behind single sign-on, the signed-in person's user id (`--staff-page-user-ids`).
    UserId,
}

impl Privacy {
    /// The sentences every page ends with: whether a question is logged, what of it, for what,
    /// for how long and who reads it.
    pub fn footer(&self, language: Language) -> String {
        let t = |sv, en| tr(language, sv, en);
        let Some(logged) = &self.logged else {
            return t(
                "Det du frågar sparas inte: tjänsten för ingen beslutslogg.",
                "What you ask is not kept: the service keeps no decision log.",
            )
            .to_string();
        };
        let whom = match logged.who {
            Who::RoleOnly => t(
                "och den roll du valt, men inte vem du är",
                "and the role you chose, but not who you are",
            ),
            Who::Pseudonym => t(
                "och en pseudonym i stället för ditt användar-id (bara den som har nyckeln kan koppla den till dig, till exempel när du begär ut dina uppgifter)",
                "and a pseudonym instead of your user id (only whoever holds the key can link it to you, for instance when you ask for your data)",
            ),
            Who::UserId => t("och ditt användar-id", "and your user id"),
        };
        let kept = match &logged.retention {
            Some(retention) => match language {
                Language::Sv => format!("sparas {}", kept_for(retention, language)),
                Language::En => format!("is kept {}", kept_for(retention, language)),
            },
            None => t(
                "sparas så länge kommunen har bestämt",
                "is kept for as long as the municipality has decided",
            )
            .to_string(),
        };
        match language {
            Language::Sv => format!(
                "Varje fråga du ställer här skrivs i kommunens beslutslogg: AI-systemet, informationen, handlingen, svaret och skälen, {whom}. Loggen finns för tillsyn, revision och utvärdering (policyns §6), {kept} och läses av dem kommunen gett behörighet, som dataskyddsombudet och internrevisionen. Texter du klistrar in under ”Vad innehåller min text?” sparas aldrig."
            ),
            Language::En => format!(
                "Every question you ask here is written to the municipality's decision log: the AI system, the information, the action, the answer and its reasons, {whom}. The log is there for supervision, audit and evaluation (the policy's §6), {kept} and is read by those the municipality has authorised, such as the data-protection officer and internal audit. Texts you paste under “What does my text hold?” are never kept."
            ),
        }
    }
}

/// How long a retention keeps records, in words: `i 6 månader`, `for 1 year`.
fn kept_for(retention: &Retention, language: Language) -> String {
    let Retention::For(span) = retention else {
        return tr(
            language,
            "tills den rensas för hand",
            "until it is cleared by hand",
        )
        .to_string();
    };
    let parts: Vec<String> = [
        (i64::from(span.get_years()), "år", "år", "year", "years"),
        (
            i64::from(span.get_months()),
            "månad",
            "månader",
            "month",
            "months",
        ),
        (
            i64::from(span.get_weeks()),
            "vecka",
            "veckor",
            "week",
            "weeks",
        ),
        (i64::from(span.get_days()), "dag", "dagar", "day", "days"),
    ]
    .into_iter()
    .filter(|(n, ..)| *n != 0)
    .map(|(n, sv_one, sv_many, en_one, en_many)| {
        let unit = match (language, n.abs() == 1) {
            (Language::Sv, true) => sv_one,
            (Language::Sv, false) => sv_many,
            (Language::En, true) => en_one,
            (Language::En, false) => en_many,
        };
        format!("{} {unit}", n.abs())
    })
    .collect();
    let and = tr(language, " och ", " and ");
    let span = if parts.is_empty() {
        tr(language, "en kort tid", "a short time").to_string()
    } else {
        parts.join(and)
    };
    match language {
        Language::Sv => format!("i {span}"),
        Language::En => format!("for {span}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_says_what_the_service_does() {
        let none = Privacy::default().footer(Language::Sv);
        assert!(none.contains("sparas inte"), "{none}");
        let pseudonym = Privacy {
            logged: Some(Logged {
                who: Who::Pseudonym,
                retention: Some(Retention::default()),
            }),
        };
        let sv = pseudonym.footer(Language::Sv);
        assert!(
            sv.contains("beslutslogg") && sv.contains("pseudonym") && sv.contains("i 6 månader"),
            "{sv}"
        );
        let en = pseudonym.footer(Language::En);
        assert!(
            en.contains("for 6 months") && en.contains("pseudonym"),
            "{en}"
        );
        let ids = Privacy {
            logged: Some(Logged {
                who: Who::UserId,
                retention: Some("1y".parse().unwrap()),
            }),
        };
        assert!(ids.footer(Language::Sv).contains("ditt användar-id"));
        assert!(ids.footer(Language::En).contains("for 1 year"));
        let never = Privacy {
            logged: Some(Logged {
                who: Who::RoleOnly,
                retention: Some("never".parse().unwrap()),
            }),
        };
        assert!(never.footer(Language::Sv).contains("inte vem du är"));
        assert!(never
            .footer(Language::Sv)
            .contains("tills den rensas för hand"));
    }
}
