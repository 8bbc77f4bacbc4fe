//! [`TaskTexts`]: the words of the tasks, cases and enrollment reasons the recipes open,
//! as templates in the engine config (translate or reword them there; no text is written
//! in the planner).
//!
//! A template names values in braces; unknown names are left as written.
//!
//! ```
//! use cartograph_sync::TaskTexts;
//!
//! let texts = TaskTexts::default();
//! let subject = TaskTexts::render(&texts.cancellation.subject, &[("number", "1001")]);
//! assert_eq!(subject, "Order 1001 was cancelled");
//! ```

use serde::{Deserialize, Serialize};

/// A task's subject and body templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskText {
    /// Subject (title) template.
    pub subject: String,
    /// Body template.
    pub body: String,
}

impl TaskText {
    fn new(subject: &str, body: &str) -> Self {
        Self {
            subject: subject.to_owned(),
            body: body.to_owned(),
        }
    }
}

/// Templates of everything the recipes write in words.
///
/// Values: `{number}` (order number, or id), `{total}` (order total with currency),
/// `{amount}` (refund amount), `{reason}` (refund reason in parentheses with a leading
/// space, or nothing), `{status}` (order status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskTexts {
    /// Recipe 7: a refund.
    pub refund: TaskText,
    /// Recipe 7: a cancellation.
    pub cancellation: TaskText,
    /// Recipe 5: a high-value order.
    pub high_value: TaskText,
    /// Recipe 5: a B2B order.
    pub b2b: TaskText,
    /// Recipe 2: why an order status enrolled a contact.
    pub status_enrollment_reason: String,
    /// Recipe 3: why an abandoned cart enrolled a contact.
    pub abandoned_cart_reason: String,
}

impl Default for TaskTexts {
    fn default() -> Self {
        Self {
            refund: TaskText::new(
                "Refund of {amount} on order {number}",
                "Order {number} was refunded {amount}{reason}. Marketing sends are suppressed for this contact.",
            ),
            cancellation: TaskText::new(
                "Order {number} was cancelled",
                "Order {number} ({total}) was cancelled. Marketing sends are suppressed for this contact.",
            ),
            high_value: TaskText::new(
                "High-value order {number}: {total}",
                "High-value order {number} for {total} was placed. Follow up with the buyer.",
            ),
            b2b: TaskText::new(
                "B2B order {number}: {total}",
                "B2B order {number} for {total} was placed. Follow up with the buyer.",
            ),
            status_enrollment_reason: "order {number} is {status}".to_owned(),
            abandoned_cart_reason: "cart abandoned".to_owned(),
        }
    }
}

impl TaskTexts {
    /// Fills `{name}` placeholders of `template` from `values`; a name not in `values` (or a
    /// lone brace) is kept as written.
    pub fn render(template: &str, values: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match values.iter().find(|(k, _)| *k == name) {
                        Some((_, value)) => out.push_str(value),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_lone_braces_are_kept() {
        assert_eq!(
            TaskTexts::render("{a} and {b} {", &[("a", "1")]),
            "1 and {b} {"
        );
    }

    #[test]
    fn defaults_render_the_documented_refund_text() {
        let t = TaskTexts::default();
        assert_eq!(
            TaskTexts::render(
                &t.refund.body,
                &[
                    ("number", "7"),
                    ("amount", "USD 5.00"),
                    ("reason", " (damaged)")
                ]
            ),
            "Order 7 was refunded USD 5.00 (damaged). Marketing sends are suppressed for this contact."
        );
    }
}
