//! A query about a text: what is found in it raises the query's data classes before anything
//! else is decided (text can raise a query, never lower it), and the decision says what was
//! found, where, and which class it raised. Information the register places in no class makes
//! the decision a deny (U2): it cannot be weighed, so it is not let through.

use super::*;
use crate::model::decision::text_unmapped_reason;
use crate::model::text_classes::TextFindings;

impl Engine {
    /// `query` with the classes found in its text joined to its data (and its `default_data`
    /// when it then has none), and what was found; `query` itself, borrowed, when it has no
    /// text.
    pub(super) fn with_text_classes<'q>(
        &self,
        query: &'q Query,
    ) -> Result<(Cow<'q, Query>, Option<TextFindings>), InputError> {
        if query.text.is_empty() && (!query.data.is_empty() || query.default_data.is_none()) {
            return Ok((Cow::Borrowed(query), None));
        }
        query.check_text_limit()?;
        let findings = self.register.find_in_text(&query.text);
        let mut data = query.data.clone();
        for class in findings.classes() {
            if !data.iter().any(|id| id == class) {
                data.push(class.to_string());
            }
        }
        if data.is_empty() {
            match &query.default_data {
                Some(class) => data.push(class.clone()),
                // With a text, every action but reporting an incident must know its classes:
                // nothing found is not "open".
                None if query.action != Action::ReportIncident && !query.text.is_empty() => {
                    return Err(InputError::in_both(
                        "data",
                        format!(
                            "inget som hittades i `text` hör till en informationsklass i registret, och frågan anger ingen: ange informationens klasser i `data` (handling `{}`, U2)",
                            query.action
                        ),
                        format!(
                            "nothing found in `text` belongs to a data class of the register, and the query names none: name the classes of the information in `data` (action `{}`, U2)",
                            query.action
                        ),
                    ))
                }
                None => {}
            }
        }
        let expanded = Query {
            user: query.user.clone(),
            ai: query.ai.clone(),
            data,
            action: query.action,
            context: query.context,
            request_id: query.request_id.clone(),
            at: query.at,
            text: Vec::new(),
            default_data: None,
        };
        let findings = (!query.text.is_empty()).then_some(findings);
        Ok((Cow::Owned(expanded), findings))
    }

    /// `query` as [`Engine::prepare`] asks Cedar about it: with the classes found in its text.
    /// A text holding information the register places in no class is an input error here:
    /// [`Engine::decide`] denies it (U2) after asking Cedar, which a prepared request alone
    /// cannot carry, so it is never handed on as if it could be allowed.
    pub(super) fn for_preparing<'q>(&self, query: &'q Query) -> Result<Cow<'q, Query>, InputError> {
        let (asked, findings) = self.with_text_classes(query)?;
        if let Some(findings) = findings.filter(|f| !f.unmapped.is_empty()) {
            if query.action != Action::ReportIncident {
                let kinds = findings
                    .unmapped
                    .iter()
                    .map(|kind| format!("`{kind}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(InputError::in_both(
                    "text",
                    format!(
                        "texten innehåller {kinds}, som ingen informationsklass i registret fångar; ett beslut om frågan nekar den (U2)"
                    ),
                    format!(
                        "the text holds {kinds} that no data class of the register finds; deciding the query denies it (U2)"
                    ),
                ));
            }
        }
        Ok(asked)
    }

    /// The decision of a query about a text: it carries what was found, and information the
    /// register places in no class makes it a deny (U2) for every action but reporting an
    /// incident (which anyone may do, whatever it holds: U4).
    pub(super) fn with_findings(
        &self,
        mut decision: Decision,
        query: &Query,
        findings: TextFindings,
        language: Language,
    ) -> Decision {
        if !findings.unmapped.is_empty() && query.action != Action::ReportIncident {
            if decision.is_allowed() {
                decision.decision = Verdict::Deny;
                decision.obligations.clear();
                decision.incident_channel = self.incident_channel_of(self.ai_index.get(&query.ai));
            }
            decision
                .reasons
                .push(text_unmapped_reason(&findings.unmapped, language));
        }
        decision.found = findings.found;
        decision
    }
}
