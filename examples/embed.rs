//! Embedding aipolicy in a service: load the engine once, decide for every request.
//!
//! Run: `cargo run --example embed`

use aipolicy::{Action, Engine, Language, Query, Role, UserRef};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Load once (policies, schema and the Askersund register are embedded in the binary);
    // `Engine::builder().register_file(..)` loads another municipality's register instead.
    let engine = Engine::bundled()?;

    // A service usually knows its user already: give them inline, with their roles.
    let user = UserRef::inline("k.karlsson", [Role::Employee]);
    let queries = [
        Query::new(user.clone(), "copilot-chat", ["intern"]),
        Query::new(user.clone(), "chatgpt", ["personuppgifter"]),
        Query::new(user, "lokal-sprakmodell", ["socialtjanstarende"])
            .with_action(Action::Decide)
            .with_context("humanReview", true)?,
    ];

    for query in &queries {
        // `decide` never panics on input: an unknown data class or user is an `Err`,
        // and anything that goes wrong inside evaluation is a deny (fail closed).
        let decision = engine.decide_in(query, Language::En)?;
        println!(
            "{} with {} on {:?}: {}",
            query.action, query.ai, query.data, decision.decision
        );
        for reason in &decision.reasons {
            println!(
                "  because {} ({}): {}",
                reason.paragraph, reason.policy, reason.message
            );
        }
        for duty in &decision.obligations {
            println!("  duty {}: {}", duty.paragraph, duty.message);
        }
        // The pinned Decision JSON, e.g. for an audit log (§6).
        println!("  {}", serde_json::to_string(&decision)?);
    }
    Ok(())
}
