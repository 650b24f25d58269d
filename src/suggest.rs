//! "Did you mean …?": the known name closest to a mistyped one.

/// The candidate closest to `name` when it is close enough to be a likely slip of the keyboard
/// or of case (`copilot` for `copilot-chat`, `maxDatalevel` for `maxDataLevel`, `anan` for
/// `anna`: a swap of two letters counts as one edit), else `None`.
///
/// ```
/// use aipolicy::suggest::closest;
/// assert_eq!(closest("copilot", ["chatgpt", "copilot-chat"]), Some("copilot-chat"));
/// assert_eq!(closest("maxDatalevel", ["maxDataLevel", "secrecy"]), Some("maxDataLevel"));
/// assert_eq!(closest("zzz", ["chatgpt", "copilot-chat"]), None);
/// ```
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| {
            let other = candidate.to_lowercase();
            // A prefix (`copilot` of `copilot-chat`) counts as close as one edit.
            let distance = if other.starts_with(&lower) && lower.len() >= 3 {
                1
            } else {
                strsim::osa_distance(&lower, &other)
            };
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            let longest = name.chars().count().max(candidate.chars().count());
            // At most a third of the longer name may differ, and never more than 4 edits.
            *distance <= (longest / 3).clamp(1, 4)
        })
        .min_by_key(|(distance, candidate)| (*distance, candidate.len()))
        .map(|(_, candidate)| candidate)
}
